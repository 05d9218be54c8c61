import { Component, useState } from "@odoo/owl";
import { Domain } from "@web/core/domain";
import { Dropdown } from "@web/core/dropdown/dropdown";
import { DropdownItem } from "@web/core/dropdown/dropdown_item";
import { _t } from "@web/core/l10n/translation";
import { treeFromDomain } from "@web/core/tree_editor/condition_tree";
import { useGetTreeDescription } from "@web/core/tree_editor/utils";
import { user } from "@web/core/user";
import { useService } from "@web/core/utils/hooks";
import { ActivityChart } from "./activity_chart";

// the traces that count in each figure of a block
const MEASURE_DOMAINS = {
    processed: [["state", "=", "processed"]],
    rejected: [["state", "=", "rejected"]],
    error: [["state", "=", "error"]],
    sent: [["mailing_trace_ids.trace_status", "in", ["pending", "sent", "open", "reply", "bounce"]]],
    open: [["mailing_trace_ids.trace_status", "in", ["open", "reply"]]],
    reply: [["mailing_trace_ids.trace_status", "=", "reply"]],
    click: [["mailing_trace_ids.links_click_datetime", "!=", false]],
    bounce: [["mailing_trace_ids.trace_status", "=", "bounce"]],
};
import { ACTIVITY_TYPES, CHILD_TRIGGERS, triggerLabel } from "./workflow_utils";

/** One activity of the workflow: its trigger, title, actions, figures and child menu. */
export class ActivityBlock extends Component {
    static template = "marketing_automation_community.ActivityBlock";
    static components = { ActivityChart, Dropdown, DropdownItem };
    static props = {
        record: Object,
        depth: Number,
        metrics: { type: Object, optional: true },
        appliedDomains: Array,
        targetModel: { type: [String, Boolean] },
        includeArchived: Boolean,
        readonly: Boolean,
        onEdit: Function,
        onDelete: Function,
        onAddChild: Function,
    };

    setup() {
        this.action = useService("action");
        this.orm = useService("orm");
        this.getTreeDescription = useGetTreeDescription();
        this.state = useState({ tab: "graph", filter: null });
    }

    get data() {
        return this.props.record.data;
    }

    get type() {
        return ACTIVITY_TYPES[this.data.activity_type] || ACTIVITY_TYPES.action;
    }

    get triggerLabel() {
        return triggerLabel(this.data);
    }

    get childTriggers() {
        return CHILD_TRIGGERS[this.data.activity_type] || [];
    }

    get hasDetails() {
        return ["email", "sms"].includes(this.data.activity_type);
    }

    get details() {
        const metrics = this.props.metrics;
        const percent = (ratio) => `${ratio}%`;
        const figures = [{ key: "sent", label: _t("Sent"), value: metrics.sent }];
        if (this.data.activity_type === "email") {
            figures.push({ key: "open", label: _t("Opened"), value: percent(metrics.open_ratio) });
        }
        figures.push({ key: "click", label: _t("Clicked"), value: percent(metrics.click_ratio) });
        if (this.data.activity_type === "email") {
            figures.push({
                key: "reply",
                label: _t("Replied"),
                value: percent(metrics.reply_ratio),
            });
        }
        figures.push({ key: "bounce", label: _t("Bounced"), value: percent(metrics.bounce_ratio) });
        return figures;
    }

    /** The campaign filter AND the filters of the ancestors AND this activity's filter. */
    get appliedDomain() {
        return Domain.and([...this.props.appliedDomains, this.data.domain || "[]"]).toList(
            user.context
        );
    }

    async selectTab(tab) {
        this.state.tab = tab;
        if (tab === "filter") {
            await this.loadFilter();
        }
    }

    async loadFilter() {
        const model = this.props.targetModel;
        const ownDomain = new Domain(this.data.domain || "[]").toList(user.context);
        const [description, count] = await Promise.all([
            ownDomain.length
                ? this.getTreeDescription(model, treeFromDomain(ownDomain))
                : _t("Match all records"),
            this.orm.searchCount(model, this.appliedDomain, {
                context: { active_test: !this.props.includeArchived },
            }),
        ]);
        this.state.filter = { description, count };
    }

    openFilteredRecords() {
        this.action.doAction({
            type: "ir.actions.act_window",
            name: _t("Selected records"),
            res_model: this.props.targetModel,
            domain: this.appliedDomain,
            views: [
                [false, "list"],
                [false, "form"],
            ],
            context: { active_test: !this.props.includeArchived },
        });
    }

    /** The traces behind a figure of the block (test participants excluded). */
    openTraces(measure) {
        this.action.doAction({
            type: "ir.actions.act_window",
            name: _t("%(activity)s: traces", { activity: this.data.name }),
            res_model: "marketing.trace",
            domain: [
                ["activity_id", "=", this.props.record.resId],
                ["is_test", "=", false],
                ...MEASURE_DOMAINS[measure],
            ],
            views: [
                [false, "list"],
                [false, "form"],
            ],
            context: { create: false },
        });
    }

    /** The participants behind a figure of the block: those with a trace of
     * the activity that counts in it (test participants excluded). */
    openParticipants(measure) {
        this.action.doAction({
            type: "ir.actions.act_window",
            name: _t("%(activity)s: participants", { activity: this.data.name }),
            res_model: "marketing.participant",
            domain: [
                ["is_test", "=", false],
                [
                    "trace_ids",
                    "any",
                    [["activity_id", "=", this.props.record.resId], ...MEASURE_DOMAINS[measure]],
                ],
            ],
            views: [
                [false, "list"],
                [false, "form"],
            ],
            context: { create: false },
        });
    }
}
