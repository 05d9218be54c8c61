from odoo import api, models
from odoo.exceptions import UserError


class MailingList(models.Model):
    _inherit = "mailing.list"

    @api.ondelete(at_uninstall=False)
    def _unlink_except_used_by_campaign_action(self):
        """A list that a campaign's step adds contacts to or removes them from
        (such as *Confirmed contacts*, to which Double Opt-in adds the contacts
        who confirmed), or that a server action of a campaign sets, cannot be
        deleted: the step would fail for every participant."""
        # sudo: the check concerns every campaign, whoever deletes the list
        activity = (
            self.env["marketing.activity"]
            .sudo()
            .search(
                [("activity_type", "=", "mailing_list"), ("mailing_list_id", "in", self.ids)],
                limit=1,
            )
        )
        if activity:
            raise UserError(
                self.env._(
                    "The mailing list %(list)s cannot be deleted: %(usage)s uses it. Archive "
                    "the list instead, or change the activity first.",
                    list=activity.mailing_list_id.name,
                    usage=activity._get_usage_label(self.env),
                )
            )
        # sudo: the check concerns every campaign, whoever deletes the list
        action = (
            self.env["ir.actions.server"]
            .sudo()
            .search(
                [
                    ("marketing_activity_ids", "!=", False),
                    ("state", "=", "object_write"),
                    ("evaluation_type", "=", "value"),
                    ("update_field_id.relation", "=", "mailing.list"),
                    ("value", "in", [str(list_id) for list_id in self.ids]),
                ],
                limit=1,
            )
        )
        if action:
            mailing_list = self.filtered(lambda mlist: str(mlist.id) == action.value)
            raise UserError(
                self.env._(
                    "The mailing list %(list)s cannot be deleted: the server action %(action)s "
                    "of %(usage)s uses it. Archive the list instead, or change the activity "
                    "first.",
                    list=mailing_list.name,
                    action=action.name,
                    usage=action.marketing_activity_ids[0]._get_usage_label(self.env),
                )
            )
