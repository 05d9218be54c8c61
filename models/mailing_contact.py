from odoo import models


class MailingContact(models.Model):
    _inherit = "mailing.contact"

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
