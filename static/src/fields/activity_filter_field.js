import { registry } from "@web/core/registry";
import { Domain } from "@web/core/domain";
import { DomainField, domainField } from "@web/views/fields/domain/domain_field";

/**
 * The filter of an activity, edited as any filter, but whose record count
 * (and the records it opens) is what the activity can reach: the campaign's
 * filter and its ancestors' filters applied too. It never looks larger than
 * the campaign's audience.
 */
export class ActivityFilterField extends DomainField {
    /**
     * A filter written for the campaign's former target (the user changed it
     * and was told to review the activities) is said invalid without being
     * counted: counting it would fail on the server.
     */
    async checkProps(props = this.props) {
        if (this.getResModel(props) && !(await this.quickValidityCheck(props))) {
            this.updateState({ isValid: false, recordCount: 0 });
            return;
        }
        return super.checkProps(props);
    }

    getEvaluatedDomain(props = this.props) {
        const own = super.getEvaluatedDomain(props);
        const applied = props.record.data.applied_domain;
        if (own.isInvalid || !applied) {
            return own;
        }
        try {
            return new Domain(applied).toList(this.getContext(props));
        } catch {
            return own;
        }
    }
}

registry.category("fields").add("marketing_activity_filter", {
    ...domainField,
    component: ActivityFilterField,
});
