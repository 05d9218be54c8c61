import logging

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, create_index

from .marketing_activity import NEGATIVE_TRIGGERS, POSITIVE_TRIGGERS

_logger = logging.getLogger(__name__)

# an event on a message also counts as the events it implies
IMPLIED_EVENTS = {
    "open": {"open"},
    "reply": {"reply", "open"},
    "click": {"click", "open"},
    "bounce": {"bounce"},
}


class MarketingTrace(models.Model):
    """The execution of one activity for one participant.

    State machine: ``scheduled`` (due at ``schedule_date``; no date while it
    waits for an event of its parent's message) becomes ``processed`` when it
    ran, ``rejected`` when the record or recipient was refused, ``canceled``
    when it expired, its condition became impossible or it was canceled by
    hand, and ``error`` when running it raised. Only processed traces get
    children.
    """

    _name = "marketing.trace"
    _description = "Marketing Automation Trace"
    _order = "schedule_date DESC, id DESC"
    _rec_name = "activity_id"

    participant_id = fields.Many2one(
        "marketing.participant", required=True, ondelete="cascade", index=True
    )
    activity_id = fields.Many2one(
        "marketing.activity", required=True, ondelete="cascade", index=True
    )
    activity_type = fields.Selection(related="activity_id.activity_type")
    trigger_type = fields.Selection(related="activity_id.trigger_type")
    campaign_id = fields.Many2one(
        related="activity_id.campaign_id", store=True, index=True, string="Campaign"
    )
    company_id = fields.Many2one(related="participant_id.company_id", store=True, index=True)
    res_id = fields.Many2oneReference(
        related="participant_id.res_id", store=True, string="Record ID", index=True
    )
    model_name = fields.Char(related="participant_id.model_name")
    resource_ref = fields.Reference(related="participant_id.resource_ref", string="Record")
    is_test = fields.Boolean(related="participant_id.is_test", store=True, string="Test")
    parent_id = fields.Many2one(
        "marketing.trace", string="Parent Trace", ondelete="cascade", index="btree_not_null"
    )
    child_ids = fields.One2many("marketing.trace", "parent_id", string="Child Traces")
    schedule_date = fields.Datetime(
        copy=False,
        help="When the trace is due; empty while it waits for an event of its parent's message.",
    )
    state = fields.Selection(
        [
            ("scheduled", "Scheduled"),
            ("processed", "Processed"),
            ("rejected", "Rejected"),
            ("canceled", "Canceled"),
            ("error", "Error"),
        ],
        default="scheduled",
        required=True,
        index=True,
    )
    state_msg = fields.Char("Reason", help="Why the trace was rejected, canceled or failed.")
    mailing_trace_ids = fields.One2many(
        "mailing.trace", "marketing_trace_id", string="Messages Sent"
    )
    mailing_trace_status = fields.Selection(
        related="mailing_trace_ids.trace_status", string="Message Status"
    )

    # what the engine decides: set when the trace is created, never rewritten by users
    ENGINE_FIELDS = {
        "participant_id",
        "activity_id",
        "parent_id",
        "campaign_id",
        "company_id",
        "res_id",
        "is_test",
    }

    def init(self):
        create_index(
            self.env.cr,
            "marketing_trace_due_index",
            self._table,
            ["activity_id", "schedule_date"],
            where="state = 'scheduled' AND schedule_date IS NOT NULL",
        )

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    def write(self, vals):
        if not self.env.su and self.ENGINE_FIELDS.intersection(vals):
            raise AccessError(
                _(
                    "Traces are created by the campaigns: their participant, activity and "
                    "record cannot be changed."
                )
            )
        return super().write(vals)

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_execute(self):
        """Run the scheduled traces now, whatever their date (the test screen
        and integrators use it). Waiting event-triggered traces run as if their
        event had happened: the event is handed to their parent, which cancels
        the siblings it makes impossible (a "not opened" beside an "opened")."""
        traces = self.filtered(lambda t: t.state == "scheduled")
        if not traces:
            raise UserError(_("Only scheduled traces can be run."))
        traces.check_access("write")
        now = fields.Datetime.now()
        for trace in traces.filtered(lambda t: not t.schedule_date and t.parent_id):
            event = POSITIVE_TRIGGERS.get(trace.trigger_type)
            if event:
                trace.parent_id._process_event(event, now)
        traces = traces.filtered(lambda t: t.state == "scheduled")
        traces.filtered(lambda t: not t.schedule_date).schedule_date = now
        for activity, activity_traces in traces.grouped("activity_id").items():
            activity._execute(activity_traces)
        traces.participant_id._update_completion()
        return True

    def action_cancel(self):
        traces = self.filtered(lambda t: t.state == "scheduled")
        traces._set_state("canceled", _("Canceled manually."))
        traces.participant_id._update_completion()
        return True

    # ------------------------------------------------------------
    # STATE CHANGES
    # ------------------------------------------------------------

    def _set_state(self, state, message):
        if self:
            vals = {"state": state, "state_msg": message}
            if state in ("rejected", "canceled"):
                vals["schedule_date"] = fields.Datetime.now()
            self.write(vals)

    def _set_error(self, error, now):
        message = (
            error.args[0] if isinstance(error, UserError) else f"{type(error).__name__}: {error}"
        )
        _logger.warning(
            "Marketing traces %s failed: %s",
            self.ids,
            message,
            exc_info=not isinstance(error, UserError),
        )
        self.write({"state": "error", "state_msg": message, "schedule_date": now})

    def _set_delivery_failed(self):
        """Odoo's mail or SMS queue failed the message of these processed traces
        after they ran (no server, refused address...): the trace did not
        succeed. It goes to error with the reason, and the children waiting
        for an event of that message can no longer have it. A bounce is not a
        failure: the message left, and bounce children run."""
        traces = self.filtered(lambda t: t.state == "processed")
        for reason, reason_traces in traces.grouped(
            lambda t: t.mailing_trace_ids[:1]._get_marketing_failure_reason()
        ).items():
            reason_traces.write(
                {"state": "error", "state_msg": _("Not delivered: %(reason)s", reason=reason)}
            )
        waiting = traces.child_ids.filtered(
            lambda t: (
                t.state == "scheduled"
                and (t.trigger_type in POSITIVE_TRIGGERS or t.trigger_type in NEGATIVE_TRIGGERS)
            )
        )
        waiting._set_state("canceled", _("Canceled: the parent message was not delivered."))
        traces.participant_id._update_completion()

    def _split_by_res_id(self):
        """Yield batches in which each record appears once (a test participant
        may share its record with a real one)."""
        batches = []
        for trace in self:
            batch_index = next(
                (index for index, batch in enumerate(batches) if trace.res_id not in batch), None
            )
            if batch_index is None:
                batches.append({})
                batch_index = len(batches) - 1
            batches[batch_index][trace.res_id] = trace
        for batch in batches:
            yield self.browse(trace.id for trace in batch.values())

    def _create_children(self, now):
        """Create the traces of the child activities of processed traces:
        `activity` and negative triggers are scheduled from now, positive
        triggers wait for their event."""
        vals_list = [
            child._prepare_trace_values(trace.participant_id, now, parent_trace=trace)
            for trace in self
            for child in trace.activity_id.child_ids
        ]
        # sudo: the engine creates traces, users never do (their ACL has no create)
        return self.sudo().create(vals_list).with_env(self.env)

    # ------------------------------------------------------------
    # EVENTS
    # ------------------------------------------------------------

    def _filter_event(self, event):
        """The traces whose message had ``event`` (open, reply, click, bounce);
        a click or a reply implies an open."""
        happened = {
            "open": lambda mt: (
                mt.trace_status in ("open", "reply")
                or mt.open_datetime
                or mt.reply_datetime
                or mt.links_click_datetime
            ),
            "reply": lambda mt: mt.trace_status == "reply" or mt.reply_datetime,
            "click": lambda mt: mt.links_click_datetime,
            "bounce": lambda mt: mt.trace_status == "bounce",
        }[event]
        return self.mailing_trace_ids.filtered(happened).marketing_trace_id

    def _cancel_for_event(self, event):
        messages = {
            "open": _("Canceled: the parent message was opened."),
            "reply": _("Canceled: the parent message was replied to."),
            "click": _("Canceled: a link of the parent message was clicked."),
            "bounce": _("Canceled: the parent message bounced."),
        }
        self._set_state("canceled", messages[event])

    def _is_expired_waiting(self, date):
        """Whether this trace, waiting for an event, can no longer run at ``date``:
        its activity's validity after the parent ran has passed (tests never
        expire)."""
        self.ensure_one()
        activity = self.activity_id
        return (
            activity.validity_duration
            and not self.is_test
            and self.parent_id.schedule_date + activity._get_validity_delta() < date
        )

    def _cancel_expired_waiting(self):
        self._set_state("canceled", _("Expired: the awaited event did not happen in time."))

    def _process_event(self, event, event_date):
        """An event happened on the message of these (parent) traces: schedule
        their waiting children triggered by it (first event only), cancel the
        children it makes impossible."""
        events = IMPLIED_EVENTS[event]
        children = self.child_ids.filtered(lambda t: t.state == "scheduled")
        if event == "bounce":
            impossible = children.filtered(
                lambda t: t.trigger_type not in ("activity", "mail_bounce", "sms_bounce")
            )
            impossible._cancel_for_event("bounce")
            children -= impossible
        for child in children:
            trigger = child.activity_id.trigger_type
            if POSITIVE_TRIGGERS.get(trigger) in events and not child.schedule_date:
                if child._is_expired_waiting(event_date):
                    child._cancel_expired_waiting()
                else:
                    child.schedule_date = event_date + child.activity_id._get_delta()
            elif NEGATIVE_TRIGGERS.get(trigger) in events:
                child._cancel_for_event(NEGATIVE_TRIGGERS[trigger])
        self.participant_id._update_completion()
        scheduled = children.filtered(lambda t: t.state == "scheduled" and t.schedule_date)
        if scheduled and not all(scheduled.mapped("is_test")):
            self.env["marketing.campaign"]._trigger_cron(min(scheduled.mapped("schedule_date")))

    # ------------------------------------------------------------
    # SCHEDULER
    # ------------------------------------------------------------

    @api.model
    def _get_scheduler_setting(self, name, default):
        """The positive integer of the system parameter
        ``marketing_automation_community.<name>``, or ``default`` when it is
        missing or wrong (a typo in the settings never stops the scheduler)."""
        key = f"marketing_automation_community.{name}"
        # sudo: system parameters are for administrators; this one is only a number
        value = self.env["ir.config_parameter"].sudo().get_param(key)
        if not value:
            return default
        try:
            number = int(value)
        except ValueError:
            number = 0
        if number < 1:
            _logger.warning(
                "System parameter %s=%r is not a positive integer: using %s", key, value, default
            )
            return default
        return number

    @api.model
    def _get_batch_size(self):
        return self._get_scheduler_setting("batch_size", 200)

    @api.model
    def _claim_due_traces(self, activity, limit):
        """Lock a batch of due traces of one activity; rows locked by another
        worker are skipped, so two workers never run the same trace."""
        self.flush_model(["activity_id", "state", "schedule_date", "is_test"])
        self.env.cr.execute(
            SQL(
                """
                SELECT id FROM marketing_trace
                 WHERE activity_id = %(activity_id)s
                   AND state = 'scheduled'
                   AND schedule_date <= %(now)s
                   AND is_test IS NOT TRUE
              ORDER BY schedule_date, id
                 LIMIT %(limit)s
                   FOR NO KEY UPDATE SKIP LOCKED
                """,
                activity_id=activity.id,
                now=fields.Datetime.now(),
                limit=limit,
            )
        )
        return self.browse(row[0] for row in self.env.cr.fetchall())

    def _get_due_domain(self, campaigns):
        return [
            ("campaign_id", "in", campaigns.filtered(lambda c: c.state == "running").ids),
            ("state", "=", "scheduled"),
            ("schedule_date", "<=", fields.Datetime.now()),
            ("is_test", "=", False),
        ]

    @api.model
    def _claim_next_batch(self, campaigns, limit):
        """Claim the next batch of due traces, all of one activity (see
        ``_claim_due_traces``); an empty recordset when nothing is left."""
        for [activity] in self._read_group(self._get_due_domain(campaigns), ["activity_id"]):
            if traces := self._claim_due_traces(activity, limit):
                return activity, traces
        return self.env["marketing.activity"], self.browse()

    @api.model
    def _execute_due_traces(self, campaigns, auto_commit=False, max_batches=None):
        """Execute the due traces of running campaigns in bounded batches, at
        most ``max_batches`` of them. With ``auto_commit`` (the scheduler), each
        batch is committed and the progress reported to the cron runner, which
        calls again while due traces remain. Children due at once are run in the
        same call. Return the number of traces handled."""
        batch_size = self._get_batch_size()
        done = batches = 0
        while max_batches is None or batches < max_batches:
            activity, traces = self._claim_next_batch(campaigns, batch_size)
            if not traces:
                break
            try:
                with self.env.cr.savepoint():
                    activity._execute(traces)
            except Exception as error:  # noqa: BLE001 - the cron goes on with the others
                self.env.invalidate_all()
                traces._set_error(error, fields.Datetime.now())
            traces.participant_id._update_completion()
            done += len(traces)
            batches += 1
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
                self.env["ir.cron"]._notify_progress(
                    done=done, remaining=self.search_count(self._get_due_domain(campaigns))
                )
        return done

    @api.model
    def _expire_waiting_traces(self, campaigns):
        """Cancel the event-triggered traces whose event did not come within the
        activity's validity after their parent ran."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                SELECT trace.id
                  FROM marketing_trace trace
                  JOIN marketing_activity activity ON activity.id = trace.activity_id
                  JOIN marketing_trace parent ON parent.id = trace.parent_id
                 WHERE trace.state = 'scheduled'
                   AND trace.schedule_date IS NULL
                   AND trace.is_test IS NOT TRUE
                   AND trace.campaign_id IN %(campaign_ids)s
                   AND activity.validity_duration
                   AND parent.schedule_date + (
                        activity.validity_duration_number || ' ' || activity.validity_duration_type
                       )::interval < %(now)s
                """,
                campaign_ids=tuple(campaigns.ids) or (None,),
                now=fields.Datetime.now(),
            )
        )
        expired = self.browse(row[0] for row in self.env.cr.fetchall())
        expired._cancel_expired_waiting()
        expired.participant_id._update_completion()

    @api.model
    def _schedule_next_cron(self, campaigns):
        """Trigger the scheduler for the earliest trace due in the future."""
        next_trace = self.search(
            [
                ("campaign_id", "in", campaigns.filtered(lambda c: c.state == "running").ids),
                ("state", "=", "scheduled"),
                ("schedule_date", ">", fields.Datetime.now()),
                ("is_test", "=", False),
            ],
            order="schedule_date",
            limit=1,
        )
        if next_trace:
            self.env["marketing.campaign"]._trigger_cron(next_trace.schedule_date)
