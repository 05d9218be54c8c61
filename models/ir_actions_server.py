import io
import tokenize

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError


def _code_uses_records(code):
    """Whether Python ``code`` uses the name ``records`` (in its statements,
    not in a comment or a string such as Odoo's default code, which lists it)."""
    try:
        return any(
            token.type == tokenize.NAME and token.string == "records"
            for token in tokenize.generate_tokens(io.StringIO(code or "").readline)
        )
    except (tokenize.TokenError, SyntaxError):
        return False


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

    @api.constrains("state", "code", "child_ids")
    def _check_marketing_run_once_per_batch(self):
        """An action that a campaign runs once per batch keeps working on
        ``records``, also when it is one of the actions of a *Multi Actions*."""
        # sudo: the check concerns every campaign, whoever edits the action
        activities = (
            self.env["marketing.activity"]
            .sudo()
            .search([("run_once_per_batch", "=", True), ("server_action_id", "!=", False)])
        )
        for activity in activities:
            action = activity.server_action_id
            if action._get_action_tree() & self and (
                single := action._get_single_record_code_actions()
            ):
                raise ValidationError(
                    _(
                        "The server action %(action)s is run on several records at once by "
                        "%(usage)s: its code must work on “records”, not on “record”.",
                        action=single[0].name,
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

    def _get_action_tree(self):
        """These actions and those they run (*Multi Actions*, at any depth)."""
        actions = todo = self
        while todo:
            todo = todo.child_ids - actions
            actions |= todo
        return actions

    def _get_single_record_code_actions(self):
        """The code actions among these actions and those they run whose code
        does not use ``records``: written for one ``record``, they cannot run
        once for a batch, where ``record`` is unset."""
        # sudo: only whether the code uses `records` is checked; marketing users
        # may not read the code itself
        return (
            self.sudo()
            ._get_action_tree()
            .filtered(lambda action: action.state == "code" and not _code_uses_records(action.code))
        )
