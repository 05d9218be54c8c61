from odoo import models


class MailComposeMessage(models.TransientModel):
    _inherit = "mail.compose.message"

    def _action_send_mail(self, auto_commit=False):
        """A campaign commits its batch itself, mails and traces together, so
        that a crash can neither send twice nor lose a trace."""
        if self.env.context.get("marketing_trace_by_res_id"):
            auto_commit = False
        return super()._action_send_mail(auto_commit=auto_commit)
