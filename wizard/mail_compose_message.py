from odoo import models

from ..tools.campaign_batch import get_campaign_batch


class MailComposeMessage(models.TransientModel):
    _inherit = "mail.compose.message"

    def _action_send_mail(self, auto_commit=False):
        """A campaign queues its mails and commits its batch itself, mails and
        traces together: a crash can neither send twice nor lose a trace, and
        the mail queue sends them (marking each mail before sending it)."""
        if get_campaign_batch(self.env):
            auto_commit = False
            self.force_send = False
        return super()._action_send_mail(auto_commit=auto_commit)
