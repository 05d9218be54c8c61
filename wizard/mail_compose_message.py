from odoo import models


class MailComposeMessage(models.TransientModel):
    _inherit = "mail.compose.message"

    def _action_send_mail(self, auto_commit=False):
        """A campaign queues its mails and commits its batch itself, mails and
        traces together: a crash can neither send twice nor lose a trace, and
        the mail queue sends them (marking each mail before sending it)."""
        if self.env.context.get("marketing_trace_by_res_id"):
            auto_commit = False
            self.force_send = False
        return super()._action_send_mail(auto_commit=auto_commit)
