import re

from odoo import models
from odoo.tools import SQL


class MarketingClickTraces(dict):
    """The campaign messages of the mails being sent, ``{mail id: mailing
    trace ids}``, read by ``mail.mail._send`` in one query. Only ``_send``
    puts it in the context: a context that comes from a remote call is JSON
    and never holds one (as ``tools.campaign_batch``)."""


MARKETING_CLICK_TRACES_KEY = "marketing_click_traces"


class MailMail(models.Model):
    _inherit = "mail.mail"

    def _send(self, *args, **kwargs):
        """Find the campaign messages of the whole batch in one query: the mail
        queue commits after each mail, which empties the ORM's cache, so a
        read per mail in ``_prepare_outgoing_body`` would cost a query each."""
        if not self.ids:
            return super()._send(*args, **kwargs)
        self.env["mailing.trace"].flush_model(["mail_mail_id", "marketing_trace_id"])
        rows = self.env.execute_query(
            SQL(
                """
                SELECT mail_mail_id, array_agg(id)
                  FROM mailing_trace
                 WHERE mail_mail_id IN %s AND marketing_trace_id IS NOT NULL
              GROUP BY mail_mail_id
                """,
                tuple(self.ids),
            )
        )
        traces = MarketingClickTraces((mail_id, frozenset(ids)) for mail_id, ids in rows)
        return super(MailMail, self.with_context(**{MARKETING_CLICK_TRACES_KEY: traces}))._send(
            *args, **kwargs
        )

    def _get_marketing_click_traces(self):
        """The mailing traces of this mail sent by a campaign, by id."""
        traces = self.env.context.get(MARKETING_CLICK_TRACES_KEY)
        if isinstance(traces, MarketingClickTraces):
            return traces.get(self.id, frozenset())
        return frozenset(self.mailing_trace_ids.filtered("marketing_trace_id").ids)

    def _prepare_outgoing_body(self):
        """Sign the tracked links of a campaign email for its recipient. Odoo
        makes each short link ``/r/CODE/m/<message id>``, which anyone can
        forge; the click route counts a click for the campaign only with the
        signature added here (``hash_token``)."""
        body = super()._prepare_outgoing_body()
        mailing_trace = self.mailing_trace_ids[:1]
        if body and self.mailing_id and mailing_trace.id in self._get_marketing_click_traces():
            token = mailing_trace._get_marketing_click_token()
            body = body.__class__(
                re.sub(
                    rf"(/r/[\w-]+/m/{mailing_trace.id})(?![\w/?#])",
                    rf"\1?hash_token={token}",
                    body,
                )
            )
        return body
