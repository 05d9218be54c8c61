from odoo import api, models
from odoo.exceptions import ValidationError
from odoo.fields import Command


class MarketingCampaign(models.Model):
    """The workflow editor saves a tree built before anything was saved: a
    new activity may name as parent another new activity of the same save,
    by the client's reference of its create command (``virtual_…``)."""

    _inherit = "marketing.campaign"

    @api.model_create_multi
    def create(self, vals_list):
        trees = [self._pop_unsaved_activity_tree(vals) for vals in vals_list]
        campaigns = super().create(vals_list)
        for campaign, tree in zip(campaigns, trees, strict=True):
            campaign._create_unsaved_activity_tree(tree)
        return campaigns

    def write(self, vals):
        tree = self._pop_unsaved_activity_tree(vals)
        res = super().write(vals)
        if tree:
            self.ensure_one()
            self._create_unsaved_activity_tree(tree)
        return res

    @api.model
    def _pop_unsaved_activity_tree(self, vals):
        """Take out of ``vals`` the create commands of activities when one of
        them names a new activity as parent; return them."""
        commands = vals.get("marketing_activity_ids")
        if not isinstance(commands, list):
            return []
        creates = [
            command
            for command in commands
            if isinstance(command, (list, tuple)) and command[0] == Command.CREATE
        ]
        if not any(isinstance(command[2].get("parent_id"), str) for command in creates):
            return []
        vals["marketing_activity_ids"] = [
            command for command in commands if not any(command is c for c in creates)
        ]
        return creates

    def _create_unsaved_activity_tree(self, commands):
        """Create the activities of ``commands`` parents first, in their order."""
        self.ensure_one()
        created = {}
        pending = list(commands)
        while pending:
            ready = [
                command
                for command in pending
                if not isinstance(command[2].get("parent_id"), str)
                or command[2]["parent_id"] in created
            ]
            if not ready:
                raise ValidationError(
                    self.env._("The parent of a new activity is not part of the campaign.")
                )
            activities = self.env["marketing.activity"].create(
                [
                    dict(
                        command[2],
                        campaign_id=self.id,
                        parent_id=created.get(command[2].get("parent_id"))
                        or command[2].get("parent_id"),
                    )
                    for command in ready
                ]
            )
            for command, activity in zip(ready, activities, strict=True):
                created[command[1]] = activity.id
            pending = [command for command in pending if not any(command is c for c in ready)]
