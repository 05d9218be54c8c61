import re

from odoo import models


class MailMail(models.Model):
    _inherit = "mail.mail"

    def _prepare_outgoing_body(self):
        """Sign the tracked links of a campaign email for its recipient. Odoo
        makes each short link ``/r/CODE/m/<message id>``, which anyone can
        forge; the click route counts a click for the campaign only with the
        signature added here (``hash_token``)."""
        body = super()._prepare_outgoing_body()
        mailing_trace = self.mailing_trace_ids[:1]
        if body and self.mailing_id and mailing_trace.marketing_trace_id:
            token = mailing_trace._get_marketing_click_token()
            body = body.__class__(
                re.sub(
                    rf"(/r/[\w-]+/m/{mailing_trace.id})(?![\w/?#])",
                    rf"\1?hash_token={token}",
                    body,
                )
            )
        return body
