from odoo import _, api, fields, models, tools
from odoo.exceptions import AccessError
from odoo.tools import SQL

from ..tools.campaign_batch import get_campaign_batch
from ..tools.triggers import EVENTS


class MailingTrace(models.Model):
    _inherit = "mailing.trace"

    marketing_trace_id = fields.Many2one(
        "marketing.trace", index="btree_not_null", ondelete="set null"
    )
    marketing_activity_id = fields.Many2one(
        related="marketing_trace_id.activity_id",
        string="Marketing Activity",
        store=True,
        index="btree_not_null",
    )

    @api.model_create_multi
    def create(self, vals_list):
        """The link to a marketing trace is the engine's: it is set from the
        batch being sent (``tools.campaign_batch``), never given by a user."""
        if not self.env.su and any(vals.get("marketing_trace_id") for vals in vals_list):
            raise AccessError(self._get_marketing_link_error())
        if batch := get_campaign_batch(self.env):
            for vals in vals_list:
                if not vals.get("marketing_trace_id") and vals.get("res_id"):
                    vals["marketing_trace_id"] = batch.get(vals["res_id"])
        return super().create(vals_list)

    def _get_marketing_link_error(self):
        return _("The campaign trace of a message is set by the campaign when it sends it.")

    def _prefetch_marketing_company(self):
        """What the multi-company rule of campaign messages reads when a user
        (not the superuser) writes them: each message's campaign trace and its
        company, read here in one query instead of two. The mail queue writes
        each message after a commit that emptied the cache; the rule checks
        the same values, read in this transaction."""
        field = self._fields["marketing_trace_id"]
        if self.env.su or not (missing := list(self.env.cache.get_missing_ids(self, field))):
            return
        Trace = self.env["marketing.trace"]
        self.flush_recordset(["marketing_trace_id"])
        Trace.flush_model(["company_id"])
        rows = self.env.execute_query(
            SQL(
                """
                SELECT message.id, message.marketing_trace_id, trace.company_id
                  FROM mailing_trace message
             LEFT JOIN marketing_trace trace ON trace.id = message.marketing_trace_id
                 WHERE message.id IN %s
                """,
                tuple(missing),
            )
        )
        self.env.cache.insert_missing(
            self.browse(row[0] for row in rows), field, [row[1] for row in rows]
        )
        companies = {row[1]: row[2] for row in rows if row[1]}
        self.env.cache.insert_missing(
            Trace.browse(companies), Trace._fields["company_id"], list(companies.values())
        )

    def _get_marketing_click_token(self):
        """The signature of this message's tracked links: only its recipient
        has it, so only the recipient clicks for the campaign (per message, on the
        database secret, as Odoo signs its unsubscribe links)."""
        self.ensure_one()
        return tools.hmac(self.env(su=True), "marketing_automation_community-click", self.id)

    def _get_marketing_failure_reason(self):
        """Why this message was not sent or delivered, in words."""
        self.ensure_one()
        labels = dict(self._fields["failure_type"]._description_selection(self.env))
        return labels.get(self.failure_type) or self.failure_reason or _("refused by the mailing")

    def _get_event_marketing_traces(self):
        """The marketing traces an event of these messages counts for: only
        through the message the campaign sent for them (the mailing of their
        activity, to their record). Who may record an event is decided by
        access rights: Odoo's tracking routes and mail and SMS queues write in
        sudo, a user only writes the messages of the campaigns of the user's companies.
        One query whatever the number of messages (thousands opened at once)."""
        Trace = self.env["marketing.trace"]
        if not self.ids:
            return Trace
        self.flush_recordset(["marketing_trace_id", "mass_mailing_id", "res_id"])
        Trace.flush_model(["activity_id", "res_id"])
        self.env["marketing.activity"].flush_model(["mass_mailing_id"])
        rows = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT message.marketing_trace_id
                  FROM mailing_trace message
                  JOIN marketing_trace trace ON trace.id = message.marketing_trace_id
                  JOIN marketing_activity activity ON activity.id = trace.activity_id
                 WHERE message.id IN %s
                   AND message.mass_mailing_id = activity.mass_mailing_id
                   AND message.res_id = trace.res_id
              ORDER BY message.marketing_trace_id
                """,
                tuple(self.ids),
            )
        )
        # sudo: the activity's mailing decides, whoever recorded the event; the
        # traces are handled in sudo too (see write)
        return Trace.sudo().browse(row[0] for row in rows)

    def write(self, vals):
        """Hand each event of a message sent by a campaign (open, reply, click,
        bounce; whatever recorded it) to its marketing trace. Handling an event
        twice changes nothing: only the first one schedules children."""
        if "marketing_trace_id" in vals and not self.env.su:
            raise AccessError(self._get_marketing_link_error())
        self._prefetch_marketing_company()
        res = super().write(vals)
        events = [event for event in EVENTS.values() if event.happened_in(vals)]
        failed = vals.get("trace_status") in ("error", "cancel")
        if (events or failed) and (marketing_traces := self._get_event_marketing_traces()):
            # in sudo: the queues fail messages and the public routes record events as
            # whoever runs them; handling them only schedules or cancels traces
            if failed:
                marketing_traces._set_delivery_failed()
            now = fields.Datetime.now()
            for event in events:
                marketing_traces._process_event(event.name, now)
        return res
