from odoo import api, fields, models
from odoo.osv import expression

from ..tools.campaign_batch import get_campaign_batch


class MailingContact(models.Model):
    _inherit = "mailing.contact"

    subscribed_list_ids = fields.Many2many(
        "mailing.list",
        string="Subscribed Lists",
        compute="_compute_subscribed_list_ids",
        search="_search_subscribed_list_ids",
        help="The mailing lists the contact is on and has not opted out of.",
    )

    @api.depends("subscription_ids.list_id", "subscription_ids.opt_out")
    def _compute_subscribed_list_ids(self):
        for contact in self:
            contact.subscribed_list_ids = contact.subscription_ids.filtered(
                lambda s: not s.opt_out
            ).list_id

    def _search_subscribed_list_ids(self, operator, value):
        """Filters of campaigns name lists the contact has not opted out of
        (``list_ids`` holds opted-out subscriptions too)."""
        if operator in ("=", "!=") and not value:
            domain = [("subscription_ids", "any", [("opt_out", "=", False)])]
            return domain if operator == "!=" else ["!", *domain]
        if operator in expression.NEGATIVE_TERM_OPERATORS:
            negation = expression.TERM_OPERATORS_NEGATION[operator]
            return ["!", *self._search_subscribed_list_ids(negation, value)]
        return [
            ("subscription_ids", "any", [("opt_out", "=", False), ("list_id", operator, value)])
        ]

    def _marketing_remove_bounced_address(self):
        """Blacklist the addresses of these contacts, as Odoo's blacklist does
        one address at a time (``mail.blacklist._add``): called on ``records``
        by the *Remove bounced address* action of the Welcome Flow template
        when the welcome email bounced, so that no mailing tries them again. It
        works on one record as on a whole batch (*Run once per batch*)."""
        emails = set(self.mapped("email_normalized")) - {False}
        if not emails:
            return
        message = self.env._("The welcome email of a marketing campaign bounced.")
        Blacklist = self.env["mail.blacklist"].with_context(active_test=False)
        existing = Blacklist.search([("email", "in", list(emails))])
        existing._track_set_log_message(message)
        existing.action_unarchive()
        added = Blacklist.create(
            [{"email": email} for email in sorted(emails - set(existing.mapped("email")))]
        )
        added._message_log_batch(bodies=dict.fromkeys(added.ids, message))

    @api.model
    def _mailing_get_opt_out_list(self, mailing):
        """Campaign emails to mailing contacts honour list opt-outs as Odoo's
        list mailings do: an address opted out of the campaign's lists and
        opted in on none of them is not mailed (its trace is rejected). The
        campaign's lists are those of the mailing, or every list the address
        is on when the mailing names none. Odoo's own mailings are unchanged."""
        batch = self._get_marketing_batch(mailing)
        emails = set(batch.mapped("email_normalized"))
        subscriptions = self._get_marketing_subscriptions(
            mailing, [("contact_id.email_normalized", "in", list(emails))]
        )
        opted_in = subscriptions.filtered(lambda s: not s.opt_out).contact_id
        opted_out = subscriptions.filtered("opt_out").contact_id
        return set(opted_out.mapped("email_normalized")) - set(opted_in.mapped("email_normalized"))

    @api.model
    def _mailing_get_opt_out_list_sms(self, mailing):
        """The same for campaign SMS: the contacts opted out of its lists."""
        batch = self._get_marketing_batch(mailing)
        subscriptions = self._get_marketing_subscriptions(
            mailing, [("contact_id", "in", batch.ids)]
        )
        opted_in = subscriptions.filtered(lambda s: not s.opt_out).contact_id
        return (subscriptions.filtered("opt_out").contact_id - opted_in).ids

    @api.model
    def _get_marketing_batch(self, mailing):
        """The contacts a campaign is sending ``mailing`` to (none for the
        mailings of Email Marketing)."""
        if not mailing.use_in_marketing_automation:
            return self.browse()
        return self.browse(list(get_campaign_batch(self.env) or ()))

    @api.model
    def _get_marketing_subscriptions(self, mailing, domain):
        if mailing.contact_list_ids:
            domain = [*domain, ("list_id", "in", mailing.contact_list_ids.ids)]
        return self.env["mailing.subscription"].search(domain)
