import { Component, useExternalListener } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { formatDateTime } from "@web/core/l10n/dates";
import { RPCError } from "@web/core/network/rpc";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { standardFieldProps } from "@web/views/fields/standard_field_props";
import { useWorkflowVocabulary } from "./vocabulary";
import { activityType, buildTree } from "./workflow_utils";

/**
 * The traces of a participant drawn as the campaign's workflow: children
 * indented under the trace that created them, each with its state, date and
 * reason; on a test, scheduled traces run at once with Run. The mail queue
 * and the scheduler change traces behind the screen: they are read again
 * after each action, when the screen is shown again and when an action is
 * refused (saying why).
 */
export class TraceTreeField extends Component {
    static template = "marketing_automation_community.TraceTreeField";
    static props = { ...standardFieldProps };

    setup() {
        this.orm = useService("orm");
        this.notification = useService("notification");
        this.vocabulary = useWorkflowVocabulary();
        useExternalListener(document, "visibilitychange", () => {
            if (document.visibilityState === "visible") {
                this.reload();
            }
        });
    }

    get rows() {
        const records = [...this.props.record.data[this.props.name].records].sort(
            (a, b) => a.resId - b.resId
        );
        return buildTree(records).rows.map(({ record, depth }) => {
            const data = record.data;
            const states = Object.fromEntries(record.fields.state.selection);
            return {
                id: record.resId,
                depth,
                name: data.activity_id && data.activity_id[1],
                icon: activityType(this.vocabulary, data.activity_type).icon,
                state: data.state,
                stateLabel: states[data.state],
                color: this.vocabulary.state_colors[data.state],
                date: this.dateLabel(data),
                waitingFor:
                    data.state === "scheduled" && !data.schedule_date
                        ? this.vocabulary.triggers[data.trigger_type]?.awaited || ""
                        : "",
                message: data.state_msg || "",
                // an A/B split says which branch it chose
                isBranch: data.activity_type === "split" && data.state === "processed",
                canRun: data.state === "scheduled" && this.props.record.data.is_test,
                canCancel: data.state === "scheduled",
                canRetry: data.state === "error",
            };
        });
    }

    dateLabel({ state, schedule_date }) {
        if (!schedule_date) {
            return "";
        }
        const date = formatDateTime(schedule_date);
        return state === "scheduled" ? _t("Planned for %(date)s", { date }) : date;
    }

    async reload() {
        const record = this.props.record;
        if (!record.isNew && !record.dirty) {
            await record.load();
        }
    }

    async run(traceId, method) {
        try {
            await this.orm.call("marketing.trace", method, [[traceId]]);
        } catch (error) {
            if (!(error instanceof RPCError && error.data?.name === "odoo.exceptions.UserError")) {
                throw error;
            }
            this.notification.add(error.data.message, { type: "warning" });
        }
        await this.reload();
    }
}

registry.category("fields").add("marketing_trace_tree", {
    component: TraceTreeField,
    displayName: _t("Participant's workflow"),
    supportedTypes: ["one2many"],
    useSubView: true,
});
