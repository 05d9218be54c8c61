from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError


class IrActionsServer(models.Model):
    _inherit = "ir.actions.server"

    marketing_activity_ids = fields.One2many(
        "marketing.activity", "server_action_id", string="Marketing Activities"
    )

    @api.constrains("model_id")
    def _check_marketing_activity_model(self):
        """An action used by a campaign keeps its model: the campaign runs it on
        records of its own target."""
        # sudo: the check concerns every campaign, whoever edits the action
        for action in self.sudo().filtered("marketing_activity_ids"):
            activity = action.marketing_activity_ids[0]
            if action.model_id != activity.campaign_id.model_id:
                raise ValidationError(
                    _(
                        "The server action %(action)s is run by %(usage)s: its model cannot "
                        "change.",
                        action=action.name,
                        usage=activity._get_usage_label(self.env),
                    )
                )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_used_by_activity(self):
        # sudo: the check concerns every campaign, whoever deletes the action
        if used := self.sudo().filtered("marketing_activity_ids"):
            activity = used[0].marketing_activity_ids[0]
            raise UserError(
                _(
                    "The server action %(action)s cannot be deleted: %(usage)s runs it. "
                    "Remove it from the activity first.",
                    action=used[0].name,
                    usage=activity._get_usage_label(self.env),
                )
            )
