import { Component, onWillStart, onWillUpdateProps, useState } from "@odoo/owl";
import { ConfirmationDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { makeContext } from "@web/core/context";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useOwnedDialogs, useService } from "@web/core/utils/hooks";
import { parseXML } from "@web/core/utils/xml";
import { extractFieldsFromArchInfo } from "@web/model/relational_model/utils";
import { X2ManyFieldDialog } from "@web/views/fields/relational_utils";
import { standardFieldProps } from "@web/views/fields/standard_field_props";
import { FormArchParser } from "@web/views/form/form_arch_parser";
import { ActivityBlock } from "./activity_block";
import { useWorkflowVocabulary } from "./vocabulary";
import { buildTree, recordKey, triggerParentError, withDescendants } from "./workflow_utils";

/**
 * The activity dialog refuses on Save what the campaign's save would refuse
 * later without pointing at it: a negative delay or expiry, a trigger that
 * does not fit the parent. The field is marked and the reason names it.
 */
export class ActivityDialog extends X2ManyFieldDialog {
    static props = { ...X2ManyFieldDialog.props, getProblem: Function };

    setup() {
        super.setup();
        this.notification = useService("notification");
    }

    async save(params) {
        if (this.record.isInEdition && (await this.record.checkValidity())) {
            const problem = this.props.getProblem(this.record);
            if (problem) {
                await this.record.setInvalidField(problem.field);
                this.notification.add(problem.message, {
                    title: _t("The activity cannot be saved"),
                    type: "danger",
                });
                return false;
            }
        }
        return super.save(params);
    }
}

/**
 * The workflow of a campaign (its one2many of activities) as a tree of
 * blocks: children indented under their parent. Activities are created,
 * edited and deleted in the form's record, saved or not, and saved with it;
 * the figures of the blocks come from one call per load of the form, their
 * words and colours from the server's vocabulary.
 */
export class WorkflowField extends Component {
    static template = "marketing_automation_community.WorkflowField";
    static components = { ActivityBlock };
    static props = {
        ...standardFieldProps,
        context: { type: Object, optional: true },
    };

    setup() {
        this.orm = useService("orm");
        this.viewService = useService("view");
        this.addDialog = useOwnedDialogs();
        this.state = useState({ metrics: {} });
        this.vocabulary = useWorkflowVocabulary();
        onWillStart(() => this.loadMetrics(this.props));
        onWillUpdateProps((nextProps) => {
            // a (re)load of the form gives the record a new list of activities
            if (nextProps.record.data[nextProps.name] !== this.loadedList) {
                return this.loadMetrics(nextProps);
            }
        });
    }

    get list() {
        return this.props.record.data[this.props.name];
    }

    get tree() {
        return buildTree(this.list.records);
    }

    get rows() {
        const { rows } = this.tree;
        const byKey = new Map(rows.map((row) => [recordKey(row.record), row.record]));
        const campaign = this.props.record.data;
        return rows.map((row) => {
            const ancestorDomains = [];
            let parentKey = row.record.data.parent_id && row.record.data.parent_id[0];
            while (parentKey && byKey.has(parentKey)) {
                const parent = byKey.get(parentKey);
                ancestorDomains.unshift(parent.data.domain || "[]");
                parentKey = parent.data.parent_id && parent.data.parent_id[0];
            }
            return {
                ...row,
                key: recordKey(row.record),
                appliedDomains: [campaign.domain || "[]", ...ancestorDomains],
                metrics: row.record.isNew ? undefined : this.state.metrics[row.record.resId],
            };
        });
    }

    async loadMetrics(props) {
        this.loadedList = props.record.data[props.name];
        const resId = props.record.resId;
        this.state.metrics = resId
            ? await this.orm.call("marketing.campaign", "get_workflow_metrics", [[resId]])
            : {};
    }

    async getFormInfo() {
        if (!this.formInfo) {
            const { fields, relatedModels, views } = await this.viewService.loadViews({
                context: makeContext([this.list.context, this.props.context]),
                resModel: this.list.resModel,
                views: [[false, "form"]],
            });
            const archInfo = new FormArchParser().parse(
                parseXML(views.form.arch),
                relatedModels,
                this.list.resModel
            );
            this.formInfo = { archInfo, fields: { ...this.list.fields, ...fields } };
        }
        return this.formInfo;
    }

    /**
     * Open the activity dialog on ``record``, or on a new activity with
     * ``values`` (its parent and trigger when it is added under a block).
     */
    async openActivity({ record, values = {} }) {
        const list = this.list;
        const { archInfo, fields } = await this.getFormInfo();
        const { activeFields, fields: allFields } = extractFieldsFromArchInfo(archInfo, fields);
        const params = { activeFields, fields: allFields, mode: this.props.readonly ? "readonly" : "edit" };
        if (!record) {
            params.context = makeContext([list.context, this.props.context]);
        }
        const newRecord = async () => {
            const created = await list.extendRecord(params);
            if (Object.keys(values).length) {
                await created.update(values);
            }
            return created;
        };
        const dialogRecord = record ? await list.extendRecord(params, record) : await newRecord();
        this.addDialog(
            ActivityDialog,
            {
                getProblem: (rec) => this.getActivityProblem(rec),
                config: this.env.config,
                archInfo,
                record: dialogRecord,
                addNew: newRecord,
                save: (rec) => list.validateExtendedRecord(rec),
                title: record ? _t("Activity") : _t("New Activity"),
            },
            { onClose: () => list.editedRecord?.switchMode("readonly") }
        );
    }

    /** What the activity dialog must refuse in ``record``: { field, message }, or null. */
    getActivityProblem(record) {
        const { data, fields } = record;
        for (const name of ["interval_number", "validity_duration_number"]) {
            if (data[name] < 0 && (name !== "validity_duration_number" || data.validity_duration)) {
                return {
                    field: name,
                    message: _t("%(field)s: a number of 0 or more (0: at once).", {
                        field:
                            name === "interval_number"
                                ? _t("Run after")
                                : fields[name].string,
                    }),
                };
            }
        }
        const parentKey = data.parent_id && data.parent_id[0];
        const parent = parentKey && this.list.records.find((rec) => recordKey(rec) === parentKey);
        const error = triggerParentError(
            this.vocabulary,
            data.trigger_type,
            parent ? parent.data.activity_type : false,
            Boolean(parentKey)
        );
        if (error) {
            return {
                field: "trigger_type",
                message: _t("%(field)s: %(error)s", { field: fields.trigger_type.string, error }),
            };
        }
        return null;
    }

    addActivity() {
        return this.openActivity({ values: { trigger_type: "begin" } });
    }

    addChild(parent, triggerType) {
        return this.openActivity({
            values: {
                parent_id: [recordKey(parent), parent.data.name],
                trigger_type: triggerType,
            },
        });
    }

    /**
     * Promote a branch of an A/B split (after confirmation): the form is
     * saved, the server promotes it, and the form reloads with the new figures.
     */
    promoteBranch(branch) {
        this.addDialog(ConfirmationDialog, {
            title: _t("Promote %(branch)s?", { branch: branch.name }),
            body: _t(
                "Everyone who reaches the split from now on goes down this branch; the participants already in another branch stay there."
            ),
            confirmLabel: _t("Promote"),
            confirm: async () => {
                if (!(await this.props.record.save({ reload: false }))) {
                    return;
                }
                await this.orm.call("marketing.activity", "action_promote_branch", [[branch.id]]);
                await this.props.record.load();
            },
            cancel: () => {},
        });
    }

    /**
     * Remove the activity and its descendants from the workflow (deleted on
     * save); say so first when it has children or traces.
     */
    deleteActivity(record) {
        const { childrenOf } = this.tree;
        const records = withDescendants(record, childrenOf);
        const traceCount = records.reduce(
            (total, rec) => total + (this.state.metrics[rec.resId]?.trace_count || 0),
            0
        );
        const remove = async () => {
            for (const rec of records.reverse()) {
                await this.list.delete(rec);
            }
        };
        if (records.length === 1 && !traceCount) {
            return remove();
        }
        const sentences = [];
        if (records.length > 1) {
            sentences.push(
                _t("Its %(count)s child activities will be deleted with it.", {
                    count: records.length - 1,
                })
            );
        }
        if (traceCount) {
            sentences.push(
                records.length > 1
                    ? _t(
                          "These activities have %(count)s participant steps (traces), done or planned: they will be deleted.",
                          { count: traceCount }
                      )
                    : _t(
                          "It has %(count)s participant steps (traces), done or planned: they will be deleted.",
                          { count: traceCount }
                      ),
                _t("The statistics of the mails already sent stay in Email Marketing.")
            );
        }
        this.addDialog(ConfirmationDialog, {
            title: _t("Delete %(activity)s?", { activity: record.data.name }),
            body: sentences.join(" "),
            confirmLabel: _t("Delete"),
            confirm: remove,
            cancel: () => {},
        });
    }
}

export const workflowField = {
    component: WorkflowField,
    displayName: _t("Campaign workflow"),
    supportedTypes: ["one2many"],
    useSubView: true,
    extractProps: (fieldInfo, dynamicInfo) => ({ context: dynamicInfo.context }),
};

registry.category("fields").add("marketing_workflow", workflowField);
