from odoo import models


class MailingContact(models.Model):
    _inherit = "mailing.contact"

    def _marketing_remove_bounced_address(self):
        """Blacklist the addresses of these contacts: called by the *Remove
        bounced address* action of the Welcome Flow template when the welcome
        email bounced, so that no mailing tries them again."""
        Blacklist = self.env["mail.blacklist"]
        for contact in self.filtered("email_normalized"):
            Blacklist._add(
                contact.email_normalized,
                message=self.env._("The welcome email of a marketing campaign bounced."),
            )
