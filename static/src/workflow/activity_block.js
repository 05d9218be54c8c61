import { Component, useState } from "@odoo/owl";
import { Domain } from "@web/core/domain";
import { Dropdown } from "@web/core/dropdown/dropdown";
import { DropdownItem } from "@web/core/dropdown/dropdown_item";
import { _t } from "@web/core/l10n/translation";
import { treeFromDomain } from "@web/core/tree_editor/condition_tree";
import { useGetTreeDescription } from "@web/core/tree_editor/utils";
import { user } from "@web/core/user";
import { useService } from "@web/core/utils/hooks";
import { formatFloat, formatPercentage } from "@web/views/fields/formatters";
import { ActivityChart } from "./activity_chart";
import { activityType, triggerLabel } from "./workflow_utils";

/** A percentage (0-100, one decimal) in the user's language: "66.7%", "66,7%". */
function percent(value) {
    return formatPercentage((value || 0) / 100, { digits: [false, 1] });
}

/** One activity of the workflow: its trigger, title, actions, figures and child menu. */
export class ActivityBlock extends Component {
    static template = "marketing_automation_community.ActivityBlock";
    static components = { ActivityChart, Dropdown, DropdownItem };
    static props = {
        record: Object,
        depth: Number,
        metrics: { type: Object, optional: true },
        vocabulary: Object,
        appliedDomains: Array,
        targetModel: { type: [String, Boolean] },
        includeArchived: Boolean,
        readonly: Boolean,
        onEdit: Function,
        onDelete: Function,
        onAddChild: Function,
        onPromote: { type: Function, optional: true },
    };

    setup() {
        this.action = useService("action");
        this.orm = useService("orm");
        this.getTreeDescription = useGetTreeDescription();
        this.state = useState({
            tab: this.props.metrics?.split_results ? "split" : "graph",
            filter: null,
        });
    }

    get data() {
        return this.props.record.data;
    }

    get vocabulary() {
        return this.props.vocabulary;
    }

    get type() {
        return activityType(this.vocabulary, this.data.activity_type);
    }

    get triggerLabel() {
        // the server's label also names a date field and a send window; an
        // activity being edited shows its trigger and delay as the server formats them
        const { record } = this.props;
        if (!record.isNew && !record.dirty && this.data.trigger_label) {
            return this.data.trigger_label;
        }
        return triggerLabel(this.vocabulary, this.data);
    }

    get childTriggers() {
        return this.vocabulary.child_triggers[this.data.activity_type] || [];
    }

    get hasDetails() {
        return this.type.measures.length > 0;
    }

    /** The trace figures of the Graph tab, in the colour of their state. */
    get totals() {
        const metrics = this.props.metrics;
        return ["processed", "rejected", "error"]
            .filter((measure) => measure !== "error" || metrics.error)
            .map((measure) => ({
                key: measure,
                label: this.vocabulary.measures[measure],
                value: metrics[measure],
                color: this.vocabulary.state_colors[measure],
                help:
                    measure === "error"
                        ? _t(
                              "An error while running, or a message the mail or SMS queue could not deliver"
                          )
                        : "",
            }));
    }

    /** The message figures of the Details tab: those of the activity's type. */
    get details() {
        const metrics = this.props.metrics;
        return this.type.measures.map((measure) => ({
            key: measure,
            label: this.vocabulary.measures[measure],
            value: measure === "sent" ? metrics.sent : percent(metrics[`${measure}_ratio`]),
        }));
    }

    /** The branches of an A/B split side by side, or null for another activity. */
    get splitRows() {
        const results = this.props.metrics?.split_results;
        if (!results) {
            return null;
        }
        return results.map((result) => ({
            id: result.activity_id,
            name: result.name,
            best: result.best,
            promoted: result.promoted,
            participants: result.participants,
            sent: result.sent,
            opened: percent(result.opened_rate),
            clicked: percent(result.clicked_rate),
            replied: percent(result.replied_rate),
            goal: percent(result.goal_reached_rate),
            sureness: this.sureness(result),
        }));
    }

    /** How sure the best branch is better than this one, in a short cell and a sentence. */
    sureness({ best, p_value }) {
        if (p_value === null || p_value === undefined) {
            return { label: "–", help: _t("Not enough data yet") };
        }
        if (best) {
            return { label: _t("Best"), help: _t("The best branch so far") };
        }
        const confidence = formatPercentage(1 - p_value, { digits: [false, 0] });
        return {
            label: confidence,
            help: _t("p = %(p_value)s: %(confidence)s sure that the best branch is better", {
                p_value: formatFloat(p_value, { digits: [false, 3] }),
                confidence,
            }),
        };
    }

    /** What the branches are compared on, and whether there is a winner yet. */
    get splitSummary() {
        const metrics = this.props.metrics;
        const compared = metrics.split_on_goal
            ? _t("Compared on the goal rate.")
            : _t("Compared on the click rate.");
        const best = metrics.split_results.find((result) => result.best);
        return best
            ? `${compared} ${_t("Best so far: %(branch)s.", { branch: best.name })}`
            : `${compared} ${_t("Not enough data yet.")}`;
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
    async openTraces(measure) {
        await this.openMeasure("action_view_traces", measure);
    }

    /** The participants behind a figure of the block: those with a trace of
     * the activity that counts in it (test participants excluded). */
    async openParticipants(measure) {
        await this.openMeasure("action_view_participants", measure);
    }

    async openMeasure(method, measure) {
        const action = await this.orm.call("marketing.activity", method, [
            [this.props.record.resId],
            measure,
        ]);
        await this.action.doAction(action);
    }
}
