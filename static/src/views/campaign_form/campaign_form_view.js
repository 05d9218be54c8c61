import { AlertDialog, ConfirmationDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { formView } from "@web/views/form/form_view";
import { FormController } from "@web/views/form/form_controller";

/**
 * Before campaigns are deleted, say what goes with them (participants, their
 * history, templates), or that a running one must be stopped first: the words
 * come from the server (``get_delete_confirmation``), which also refuses the
 * deletion itself.
 */
export async function confirmCampaignDelete(env, resIds, deleteRecords) {
    const orm = env.services.orm;
    const { can_delete, title, body } = await orm.call(
        "marketing.campaign",
        "get_delete_confirmation",
        [resIds]
    );
    if (!can_delete) {
        env.services.dialog.add(AlertDialog, { title, body, confirmLabel: _t("Close") });
        return;
    }
    env.services.dialog.add(ConfirmationDialog, {
        title,
        body,
        confirmLabel: _t("Delete"),
        confirmClass: "btn-danger",
        confirm: deleteRecords,
        cancel: () => {},
        cancelLabel: _t("No, keep it"),
    });
}

/** Ask before Update, saying what it will do (``get_update_summary``). */
async function confirmUpdate(env, resId) {
    const { participants, steps, completed } = await env.services.orm.call(
        "marketing.campaign",
        "get_update_summary",
        [[resId]]
    );
    const sentences = [
        participants
            ? _t(
                  "%(participants)s participants will get %(steps)s new steps, planned as if the steps before them had just run.",
                  { participants, steps }
              )
            : _t(
                  "No participant needs a new step: the changes apply to those who join from now on."
              ),
    ];
    if (completed) {
        sentences.push(
            _t("%(completed)s of them had completed the workflow: they will run again.", {
                completed,
            })
        );
    }
    return new Promise((resolve) => {
        env.services.dialog.add(
            ConfirmationDialog,
            {
                title: _t("Update the participants?"),
                body: sentences.join(" "),
                confirmLabel: _t("Update"),
                confirm: () => resolve(true),
                cancel: () => resolve(false),
            },
            { onClose: () => resolve(false) }
        );
    });
}

export class CampaignFormController extends FormController {
    async deleteRecord() {
        const record = this.model.root;
        await confirmCampaignDelete(this.env, [record.resId], async () => {
            await record.delete();
            if (!record.resId) {
                this.env.config.historyBack();
            }
        });
    }

    async beforeExecuteActionButton(clickParams) {
        const saved = await super.beforeExecuteActionButton(clickParams);
        if (saved === false || clickParams.name !== "action_update_participants") {
            return saved;
        }
        return confirmUpdate(this.env, this.model.root.resId);
    }
}

registry.category("views").add("marketing_campaign_form", {
    ...formView,
    Controller: CampaignFormController,
});
