from odoo import _, api, fields, models

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
        marketing_trace_by_res_id = self.env.context.get("marketing_trace_by_res_id")
        if marketing_trace_by_res_id:
            for vals in vals_list:
                if not vals.get("marketing_trace_id") and vals.get("res_id"):
                    vals["marketing_trace_id"] = marketing_trace_by_res_id.get(vals["res_id"])
        return super().create(vals_list)

    def _get_marketing_failure_reason(self):
        """Why this message was not sent or delivered, in words."""
        self.ensure_one()
        labels = dict(self._fields["failure_type"]._description_selection(self.env))
        return labels.get(self.failure_type) or self.failure_reason or _("refused by the mailing")

    def write(self, vals):
        """Hand each event of a message sent by a campaign (open, reply, click,
        bounce; whatever recorded it) to its marketing trace. Handling an event
        twice changes nothing: only the first one schedules children."""
        res = super().write(vals)
        if vals.get("trace_status") in ("error", "cancel"):
            # sudo: the mail and SMS queues fail messages as whoever runs them
            self.marketing_trace_id.sudo()._set_delivery_failed()
        events = [event for event in EVENTS.values() if event.happened_in(vals)]
        if events and (marketing_traces := self.marketing_trace_id):
            now = fields.Datetime.now()
            for event in events:
                # sudo: events arrive from anyone (the tracking pixel and links are
                # public); handling them only schedules or cancels traces, it runs nothing
                marketing_traces.sudo()._process_event(event.name, now)
        return res
