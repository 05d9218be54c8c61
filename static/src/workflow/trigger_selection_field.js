import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { SelectionField, selectionField } from "@web/views/fields/selection/selection_field";
import { useWorkflowVocabulary } from "./vocabulary";
import { recordKey, triggerParentError } from "./workflow_utils";

/**
 * The trigger of an activity: only the triggers its parent's type allows,
 * and the server's trigger/parent check said before saving.
 */
export class TriggerSelectionField extends SelectionField {
    static template = "marketing_automation_community.TriggerSelectionField";

    setup() {
        super.setup();
        this.vocabulary = useWorkflowVocabulary();
    }

    /** The type of the parent activity, saved or not, when the campaign's form knows it. */
    get parentType() {
        const parent = this.props.record.data.parent_id;
        const siblings = this.props.record._parentRecord?.data.marketing_activity_ids?.records;
        const parentRecord = parent && siblings?.find((rec) => recordKey(rec) === parent[0]);
        return (parentRecord && parentRecord.data.activity_type) || false;
    }

    get options() {
        const options = super.options;
        const parentType = this.parentType;
        if (!parentType) {
            return options;
        }
        const allowed = (this.vocabulary.child_triggers[parentType] || []).map(([key]) => key);
        const current = this.props.record.data[this.props.name];
        return options.filter(([value]) => allowed.includes(value) || value === current);
    }

    get error() {
        return triggerParentError(
            this.vocabulary,
            this.props.record.data[this.props.name],
            this.parentType,
            Boolean(this.props.record.data.parent_id)
        );
    }
}

registry.category("fields").add("marketing_trigger_selection", {
    ...selectionField,
    component: TriggerSelectionField,
    displayName: _t("Trigger"),
});
