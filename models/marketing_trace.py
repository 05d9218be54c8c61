import json
import logging
from collections import defaultdict
from datetime import timedelta
from itertools import repeat
from typing import NamedTuple

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, create_index, email_normalize
from odoo.tools.translate import LazyGettext, LazyTranslate

from ..tools.cache import invalidate_dependents
from ..tools.timing import first_zone, to_utc
from ..tools.triggers import EVENTS, TRIGGERS, WAITING_TRIGGERS

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

# the colour (a Bootstrap one) of each trace state, wherever a state is drawn:
# the lists, the test screen, the workflow editor and the graph
STATE_COLORS = {
    "scheduled": "warning",
    "processed": "success",
    "rejected": "info",
    "canceled": "secondary",
    "error": "danger",
}
# and of each participant state (its badges, the participants pie)
PARTICIPANT_STATE_COLORS = {
    "running": "info",
    "completed": "success",
    "unlinked": "secondary",
}

# what a batch of the scheduler reads of its traces, fetched by the claim itself
CLAIMED_FIELDS = (
    "participant_id",
    "activity_id",
    "campaign_id",
    "company_id",
    "res_id",
    "is_test",
    "parent_id",
    "schedule_date",
    "state",
)
# the first key of the advisory lock that serializes the email (SMS) cap of a company
EMAIL_CAP_LOCK = 0x4D414350
SMS_CAP_LOCK = 0x4D414353


class FrequencyCap(NamedTuple):
    """What the frequency cap of one channel counts: the company fields that set
    it, the mailing traces it counts (their type and the column of the address
    they were sent to), the method giving the address each trace would send to
    (same normalization) and the first key of the advisory lock serializing
    the count per company."""

    cap_field: str
    days_field: str
    trace_type: str
    address_column: str
    addresses_method: str
    lock: int


# by activity type
FREQUENCY_CAPS = {
    "email": FrequencyCap(
        "marketing_email_cap",
        "marketing_email_cap_days",
        "mail",
        "email",
        "_get_recipient_emails",
        EMAIL_CAP_LOCK,
    ),
    "sms": FrequencyCap(
        "marketing_sms_cap",
        "marketing_sms_cap_days",
        "sms",
        "sms_number",
        "_get_recipient_numbers",
        SMS_CAP_LOCK,
    ),
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
    # deleted with its campaign (its activity and participant go too): never
    # emptied on its own
    campaign_id = fields.Many2one(
        related="activity_id.campaign_id",
        store=True,
        index=True,
        string="Campaign",
        ondelete="cascade",
    )
    company_id = fields.Many2one(related="participant_id.company_id", store=True, index=True)
    res_id = fields.Many2oneReference(
        related="participant_id.res_id", store=True, string="Record ID", index=True
    )
    model_name = fields.Char(related="participant_id.model_name")
    document_count = fields.Integer(
        "Document ID",
        compute="_compute_document_count",
        aggregator="count_distinct",
        help="The number of distinct records among the traces (the reports' measure).",
    )
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
    # stored in every active language (see _reason_sql): each reader reads it in his own
    state_msg = fields.Char(
        "Reason", translate=True, help="Why the trace was rejected, canceled or failed."
    )
    mailing_trace_ids = fields.One2many(
        "mailing.trace", "marketing_trace_id", string="Messages Sent"
    )
    mailing_trace_status = fields.Selection(
        related="mailing_trace_ids.trace_status", string="Message Status"
    )
    # the dates of the figures a block's drill-down lists (see action_view_traces)
    sent_datetime = fields.Datetime(related="mailing_trace_ids.sent_datetime")
    open_datetime = fields.Datetime(related="mailing_trace_ids.open_datetime")
    reply_datetime = fields.Datetime(related="mailing_trace_ids.reply_datetime")
    links_click_datetime = fields.Datetime(related="mailing_trace_ids.links_click_datetime")
    waiting_for = fields.Char(
        compute="_compute_waiting_for",
        help="The event of its parent's message a scheduled trace without a date waits for.",
    )

    # what the engine decides: set when the trace is created, never rewritten by users;
    # the state and date change through the engine and the Run and Cancel buttons
    ENGINE_FIELDS = {
        "participant_id",
        "activity_id",
        "parent_id",
        "campaign_id",
        "company_id",
        "res_id",
        "is_test",
        "state",
        "state_msg",
        "schedule_date",
    }

    def init(self):
        create_index(
            self.env.cr,
            "marketing_trace_due_index",
            self._table,
            ["activity_id", "schedule_date"],
            where="state = 'scheduled' AND schedule_date IS NOT NULL",
        )
        # the traces waiting for an event, which the scheduler checks for expiry
        create_index(
            self.env.cr,
            "marketing_trace_waiting_index",
            self._table,
            ["activity_id"],
            where="state = 'scheduled' AND schedule_date IS NULL",
        )

    def _compute_document_count(self):
        self.document_count = 1

    def _field_to_sql(self, alias, fname, query=None, flush=True):
        """The document count counts the distinct records in SQL: a record is
        its model (the campaign's target) and its id."""
        if fname == "document_count":
            return SQL(
                "((SELECT campaign.model_name FROM marketing_campaign campaign"
                " WHERE campaign.id = %s) || ',' || %s)",
                super()._field_to_sql(alias, "campaign_id", query, flush),
                super()._field_to_sql(alias, "res_id", query, flush),
            )
        return super()._field_to_sql(alias, fname, query, flush)

    @api.depends("state", "schedule_date", "trigger_type")
    @api.depends_context("lang")
    def _compute_waiting_for(self):
        """ "Waiting for: Clicked", in the words of the test screen (the
        ``awaited`` event of the workflow vocabulary)."""
        waiting = self.filtered(lambda t: t.state == "scheduled" and not t.schedule_date)
        (self - waiting).waiting_for = False
        if not waiting:
            return
        triggers = self.env["marketing.activity"]._get_workflow_vocabulary()["triggers"]
        for trace in waiting:
            awaited = triggers.get(trace.trigger_type, {}).get("awaited")
            trace.waiting_for = awaited and _("Waiting for: %(event)s", event=awaited)

    @api.model
    def _get_view(self, view_id=None, view_type="form", **options):
        """The state badges of a list take their colours from STATE_COLORS; the
        search view has a filter per figure of the workflow's blocks."""
        arch, view = super()._get_view(view_id, view_type, **options)
        if view_type == "search":
            self.env["marketing.activity"]._add_measure_filters(arch, self._name)
        if view_type == "list":
            states_by_color = defaultdict(list)
            for state, color in STATE_COLORS.items():
                states_by_color[color].append(state)
            for node in arch.xpath("//field[@name='state'][@widget='badge']"):
                for color, states in states_by_color.items():
                    node.set(f"decoration-{color}", f"state in {states!r}")
        return arch, view

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    def write(self, vals):
        if not self.env.su and self.ENGINE_FIELDS.intersection(vals):
            raise AccessError(
                _(
                    "Traces are created and run by the campaigns: their participant, "
                    "activity, record, state and date cannot be changed (use Run and Cancel)."
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
            if len(self) != 1:
                raise UserError(_("Only scheduled traces can be run."))
            # the screen may be older than the trace: say what became of it
            state = dict(self._fields["state"]._description_selection(self.env))[self.state]
            raise UserError(
                _(
                    "%(activity)s can no longer run: it is %(state)s. %(reason)s",
                    activity=self.activity_id.name,
                    state=state,
                    reason=self.state_msg or "",
                ).strip()
            )
        traces.check_access("write")
        now = fields.Datetime.now()
        for trace in traces.filtered(lambda t: not t.schedule_date and t.parent_id):
            if TRIGGERS[trace.trigger_type].event:
                trace.parent_id._process_event(TRIGGERS[trace.trigger_type].event, now)
        traces = traces.filtered(lambda t: t.state == "scheduled")
        # sudo: the date is the engine's; the user may write these traces (checked above)
        traces.filtered(lambda t: not t.schedule_date).sudo().schedule_date = now
        for activity, activity_traces in traces.grouped("activity_id").items():
            activity.with_context(marketing_run_now=True)._execute(activity_traces)
        traces._complete_participants()
        return True

    def action_retry(self):
        """Schedule the failed traces again, due now: the scheduler (or Run,
        on a test) runs them with the rights of whoever runs the campaign. A
        trace that already scheduled the steps after it ran, and its message
        failed later: running it again would plan them twice, so it is
        refused."""
        traces = self.filtered(lambda t: t.state == "error")
        if not traces:
            raise UserError(_("Only failed traces can be retried."))
        traces.check_access("write")
        if started := traces.filtered("child_ids"):
            raise UserError(
                _(
                    "The trace of %(activity)s already planned the steps after it: it cannot "
                    "run again.",
                    activity=started[0].activity_id.name,
                )
            )
        if removed := traces.filtered(lambda t: t.participant_id.state == "unlinked"):
            raise UserError(
                _(
                    "The record of the trace of %(activity)s no longer exists: it cannot run "
                    "again.",
                    activity=removed[0].activity_id.name,
                )
            )
        now = fields.Datetime.now()
        traces._set_state("scheduled", False, now)
        # sudo: the state is the engine's; the user may write these traces (checked above)
        traces.participant_id.filtered(lambda p: p.state == "completed").sudo().state = "running"
        self.env["marketing.scheduler"]._wake()
        return True

    def action_cancel(self):
        traces = self.filtered(lambda t: t.state == "scheduled")
        traces.check_access("write")
        traces._set_state("canceled", _lt("Canceled manually."))
        traces._complete_participants()
        return True

    # ------------------------------------------------------------
    # STATE CHANGES
    # ------------------------------------------------------------

    def _set_state(self, state, message, date=None):
        """Move these traces to ``state`` with the reason ``message``, dated
        ``date`` (now for rejected and canceled traces; unchanged when empty).
        ``message`` is best a lazy translation (``_lt``): it is stored in every
        active language (see ``_reason_sql``).

        The engine's bookkeeping, in one UPDATE whatever the number of traces:
        the entry points check the user's rights (``action_execute``,
        ``action_cancel``...), the scheduler runs as the responsible."""
        if not self:
            return
        if state in ("rejected", "canceled") and not date:
            date = fields.Datetime.now()
        self.flush_recordset(["state", "state_msg", "schedule_date"])
        self.env.cr.execute(
            SQL(
                """
                UPDATE marketing_trace
                   SET state = %(state)s, state_msg = %(message)s,
                       schedule_date = COALESCE(%(date)s, schedule_date),
                       write_uid = %(uid)s, write_date = %(now)s
                 WHERE id IN %(ids)s
                """,
                state=state,
                message=self._reason_sql(message),
                date=date,
                uid=self.env.uid,
                now=fields.Datetime.now(),
                ids=tuple(self.ids),
            )
        )
        # the new values are known: put them in the cache instead of reading them again
        self.invalidate_recordset(["write_uid", "write_date", "state_msg"])
        self.env.cache.update(self, self._fields["state"], repeat(state))
        if date:
            self.env.cache.update(self, self._fields["schedule_date"], repeat(date))
        invalidate_dependents(self, ["state", "state_msg", "schedule_date"])

    @api.model
    def _reason_sql(self, message):
        """The jsonb value of the reason ``message`` for ``state_msg``: a lazy
        translation (``_lt``, its parameters included) in every active
        language, so that each reader sees it in his own; a plain text (an
        error's message) as it is, for all."""
        if not message:
            return SQL("NULL::jsonb")
        if isinstance(message, LazyGettext):
            langs = {"en_US", *(code for code, _name in self.env["res.lang"].get_installed())}
            values = {lang: message._translate(lang) for lang in sorted(langs)}
        else:
            values = {"en_US": str(message)}
        return SQL("%s::jsonb", json.dumps(values))

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
        self._set_state("error", message, now)

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
            reason_traces._set_state("error", _lt("Not delivered: %(reason)s", reason=reason))
        waiting = traces.child_ids.filtered(
            lambda t: t.state == "scheduled" and TRIGGERS[t.trigger_type].event
        )
        waiting._set_state("canceled", _lt("Canceled: the parent message was not delivered."))
        traces._complete_participants()

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

    def _complete_participants(self):
        """The last step of every unit of engine work (a batch, an event, an
        expiry, a user's Run or Cancel): the participants of these traces that
        have nothing left scheduled (nor waiting for an event) are completed."""
        if self:
            self.env["marketing.participant"]._complete_where(
                SQL(
                    "participant.id IN (SELECT participant_id FROM marketing_trace WHERE id IN %s)",
                    tuple(self.ids),
                )
            )

    # ------------------------------------------------------------
    # SCHEDULING: when a trace is due, decided here only
    # ------------------------------------------------------------

    @api.model
    def _delay_sql(self, activity, start):
        """SQL: ``start`` plus the delay of ``activity`` (a table alias), or
        minus it for an activity due *before* a date of the record.
        PostgreSQL adds calendar intervals as ``relativedelta`` does
        (31 Jan + 1 month = 28 Feb)."""
        return SQL(
            "%(start)s + (CASE WHEN %(trigger)s = 'date' AND %(offset)s = 'before' THEN -1 "
            "ELSE 1 END * %(number)s || ' ' || %(unit)s)::interval",
            start=start,
            trigger=SQL.identifier(activity, "trigger_type"),
            offset=SQL.identifier(activity, "date_offset"),
            number=SQL.identifier(activity, "interval_number"),
            unit=SQL.identifier(activity, "interval_type"),
        )

    @api.model
    def _schedule(self, rows, start):
        """Create the traces listed by the SQL query ``rows`` (columns
        participant_id, activity_id, parent_id) in one INSERT ... SELECT,
        whatever their number. A trace is due at ``start`` plus its activity's
        delay, except when its trigger waits for an event of its parent's
        message: it has no date until the event happens (``_process_event``)."""
        self.flush_model()
        self.env["marketing.participant"].flush_model()
        self.env["marketing.activity"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                WITH inserted AS (
                INSERT INTO marketing_trace (
                    participant_id, activity_id, parent_id, campaign_id, company_id, res_id,
                    is_test, schedule_date, state, create_uid, create_date, write_uid, write_date)
                SELECT new.participant_id, activity.id, new.parent_id, activity.campaign_id,
                       participant.company_id, participant.res_id, participant.is_test,
                       CASE WHEN activity.trigger_type IN %(waiting)s
                              OR activity.trigger_type = 'date' THEN NULL
                            ELSE %(due)s END,
                       'scheduled', %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM (%(rows)s) new (participant_id, activity_id, parent_id)
                  JOIN marketing_participant participant ON participant.id = new.participant_id
                  JOIN marketing_activity activity ON activity.id = new.activity_id
              ORDER BY new.participant_id, activity.id
             RETURNING id, activity_id
                )
                SELECT inserted.id, inserted.activity_id,
                       activity.trigger_type = 'date' OR activity.send_weekdays_only IS TRUE
                       OR COALESCE(activity.send_hour_from, 0) != 0
                       OR COALESCE(activity.send_hour_to, 0) != 0
                  FROM inserted
                  JOIN marketing_activity activity ON activity.id = inserted.activity_id
              ORDER BY inserted.id
                """,
                waiting=WAITING_TRIGGERS,
                due=self._delay_sql("activity", SQL("%s::timestamp", start)),
                rows=rows,
                uid=self.env.uid,
                now=fields.Datetime.now(),
            )
        )
        rows = self.env.cr.fetchall()
        traces = self.browse(row[0] for row in rows)
        if timed := [row for row in rows if row[2]]:
            # dated from their record's date, moved into their send window
            self.browse(row[0] for row in timed)._apply_timing([row[1] for row in timed])
        if traces:
            # inserted in SQL: the cached trace lists and what depends on
            # traces (statistics, counts) are stale
            self.env["marketing.participant"].invalidate_model(["trace_ids"])
            self.env["marketing.activity"].invalidate_model(["trace_ids"])
            self.invalidate_model(["child_ids"])
            invalidate_dependents(self, ["state"])
        return traces

    def _schedule_children(self, start):
        """Schedule the child activities of these processed traces; a split
        schedules only the branch it chose (``_split_branch_rows``)."""
        if not self:
            return self.browse()
        return self._schedule(
            SQL(
                """
                SELECT trace.participant_id, child.id, trace.id
                  FROM marketing_trace trace
                  JOIN marketing_activity child ON child.parent_id = trace.activity_id
                  JOIN marketing_activity parent ON parent.id = trace.activity_id
                 WHERE trace.id IN %(ids)s AND parent.activity_type != 'split'
             UNION ALL
                %(branches)s
                """,
                ids=tuple(self.ids),
                branches=self.env["marketing.activity"]._split_branch_rows(
                    SQL("trace.id IN %s", tuple(self.ids))
                ),
            ),
            start,
        )

    @api.model
    def _get_due_domain(self, activity_ids, now, future=False):
        """The condition of a trace the scheduler runs: scheduled, dated, due
        at ``now`` (or later, with ``future``), of a real participant, of
        ``activity_ids`` (of any activity when None). The SQL claims and
        counts of the scheduler compile this same domain, and it matches the
        partial index ``marketing_trace_due_index`` (activity, date)."""
        return [
            *([("activity_id", "in", list(activity_ids))] if activity_ids is not None else []),
            ("state", "=", "scheduled"),
            ("schedule_date", ">" if future else "<=", now),
            ("is_test", "=", False),
        ]

    # ------------------------------------------------------------
    # EXPIRY
    # ------------------------------------------------------------

    @api.model
    def _cancel_expired(self, condition, at):
        """Cancel the scheduled traces matching ``condition`` (SQL on the alias
        ``trace``) that can no longer run at ``at``: the validity of their
        activity has passed since their planned date or, while they wait for an
        event, since their parent ran. Tests never expire. This is the one
        expiry rule, used before a batch runs, when an event arrives and by the
        scheduler for events that never came. Return the canceled traces."""
        self.flush_model(["activity_id", "parent_id", "state", "is_test", "schedule_date"])
        self.env["marketing.activity"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                UPDATE marketing_trace expired
                   SET state = 'canceled',
                       state_msg = CASE WHEN expired.schedule_date IS NULL
                                        THEN %(waiting_msg)s ELSE %(late_msg)s END,
                       schedule_date = %(now)s, write_uid = %(uid)s, write_date = %(now)s
                 WHERE expired.id IN (
                        SELECT trace.id
                          FROM marketing_trace trace
                          JOIN marketing_activity activity ON activity.id = trace.activity_id
                     LEFT JOIN marketing_trace parent ON parent.id = trace.parent_id
                         WHERE %(condition)s
                           AND trace.state = 'scheduled'
                           AND trace.is_test IS NOT TRUE
                           AND activity.validity_duration
                           AND COALESCE(trace.schedule_date, parent.schedule_date) + (
                                activity.validity_duration_number || ' '
                                || activity.validity_duration_type)::interval < %(at)s)
             RETURNING expired.id
                """,
                condition=condition,
                waiting_msg=self._reason_sql(
                    _lt("Expired: the awaited event did not happen in time.")
                ),
                late_msg=self._reason_sql(
                    _lt("Expired: not executed in time after its planned date.")
                ),
                now=fields.Datetime.now(),
                uid=self.env.uid,
                at=at,
            )
        )
        expired = self.browse(row[0] for row in self.env.cr.fetchall())
        if expired:
            expired.invalidate_recordset(["state", "state_msg", "schedule_date"])
            invalidate_dependents(self, ["state", "state_msg", "schedule_date"])
        return expired

    # ------------------------------------------------------------
    # EVENTS
    # ------------------------------------------------------------

    def _filter_event(self, event):
        """The traces whose message had ``event`` (open, reply, click, bounce),
        or an event that implies it (a click or a reply implies an open)."""
        if not self:
            return self
        return (
            self.env["mailing.trace"]
            .search([("marketing_trace_id", "in", self.ids), *EVENTS[event].get_domain()])
            .marketing_trace_id
        )

    def _process_event(self, event, event_date):
        """An event happened on the message of these (parent) traces: schedule
        their waiting children triggered by it (first event only, at the event
        plus their delay), cancel the children it makes impossible (a "not
        opened" once opened, a "bounced" once replied to). Set-based:
        the same few queries for one message (the tracking pixel) as for
        thousands opened at once."""
        if not self:
            return
        happened = EVENTS[event].implies
        waiting = tuple(
            key
            for key, trigger in TRIGGERS.items()
            if trigger.positive and trigger.event in happened
        )
        reasons = {
            key: EVENTS[trigger.event].cancel_reason
            for key, trigger in TRIGGERS.items()
            if trigger.event and not trigger.positive and trigger.event in happened
        }
        reasons.update(
            (key, EVENTS[event].cancel_reason)
            for key, trigger in TRIGGERS.items()
            if trigger.positive and trigger.event in EVENTS[event].excludes
        )
        if EVENTS[event].voids_others:
            reasons.update(
                (key, EVENTS[event].cancel_reason)
                for key, trigger in TRIGGERS.items()
                if trigger.event and trigger.event != event
            )
        children = SQL(
            """
            trace.parent_id IN %(parents)s AND trace.activity_id IN (
                SELECT id FROM marketing_activity WHERE trigger_type IN %(triggers)s)
            """,
            parents=tuple(self.ids),
            triggers=waiting,
        )
        expired = self._cancel_expired(
            SQL("%s AND trace.schedule_date IS NULL", children), event_date
        )
        self.env.cr.execute(
            SQL(
                """
                UPDATE marketing_trace trace
                   SET schedule_date = %(due)s, write_uid = %(uid)s, write_date = %(now)s
                  FROM marketing_activity activity
                 WHERE activity.id = trace.activity_id
                   AND %(children)s
                   AND trace.state = 'scheduled'
                   AND trace.schedule_date IS NULL
             RETURNING trace.id, trace.schedule_date, trace.is_test, activity.id,
                       activity.send_weekdays_only IS TRUE
                       OR COALESCE(activity.send_hour_from, 0) != 0
                       OR COALESCE(activity.send_hour_to, 0) != 0
                """,
                due=self._delay_sql("activity", SQL("%s::timestamp", event_date)),
                children=children,
                uid=self.env.uid,
                now=fields.Datetime.now(),
            )
        )
        scheduled = self.env.cr.fetchall()
        if windowed := [row for row in scheduled if row[4]]:
            # the children scheduled now go in their send window
            self.browse(row[0] for row in windowed)._apply_timing([row[3] for row in windowed])
        canceled = []
        if reasons:
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE marketing_trace trace
                       SET state = 'canceled',
                        state_msg = CASE activity.trigger_type %(messages)s END,
                           schedule_date = %(now)s, write_uid = %(uid)s, write_date = %(now)s
                      FROM marketing_activity activity
                     WHERE activity.id = trace.activity_id
                       AND trace.parent_id IN %(parents)s
                       AND trace.state = 'scheduled'
                       AND activity.trigger_type IN %(triggers)s
                 RETURNING trace.id
                    """,
                    messages=SQL(" ").join(
                        SQL("WHEN %s THEN %s", key, self._reason_sql(reason))
                        for key, reason in reasons.items()
                    ),
                    parents=tuple(self.ids),
                    triggers=tuple(reasons),
                    uid=self.env.uid,
                    now=fields.Datetime.now(),
                )
            )
            canceled = [row[0] for row in self.env.cr.fetchall()]
        changed = self.browse([row[0] for row in scheduled] + canceled) | expired
        if changed:
            changed.invalidate_recordset(["state", "state_msg", "schedule_date"])
            invalidate_dependents(self, ["state", "state_msg", "schedule_date"])
            changed._complete_participants()
        real_dates = [row[1] for row in scheduled if not row[2]]
        if real_dates:
            self.env["marketing.scheduler"]._wake(min(real_dates))

    # ------------------------------------------------------------
    # CLAIM: the batches of the scheduler (marketing.scheduler)
    # ------------------------------------------------------------

    @api.model
    def _claim_due_traces(self, activity, limit):
        """Lock a batch of due traces of one activity; rows locked by another
        worker are skipped, so two workers never run the same trace. The
        condition is ``_get_due_domain``'s, compiled by the ORM."""
        query = self.sudo()._search(self._get_due_domain(activity.ids, fields.Datetime.now()))
        table = SQL.identifier(self._table)
        query.order = SQL("%s.schedule_date, %s.id", table, table)
        query.limit = limit
        # the values the batch reads come with the claim: no second read of its rows
        fields_ = [self._fields[name] for name in CLAIMED_FIELDS]
        columns = [SQL.identifier(self._table, field.name) for field in fields_]
        self.env.cr.execute(
            SQL(
                "%s FOR NO KEY UPDATE OF %s SKIP LOCKED",
                query.select(SQL.identifier(self._table, "id"), *columns),
                table,
            ),
            # a conflict with another worker is expected and handled by the caller
            log_exceptions=False,
        )
        rows = self.env.cr.fetchall()
        traces = self.browse(row[0] for row in rows)
        for index, field in enumerate(fields_, 1):
            self.env.cache.insert_missing(traces, field, [row[index] for row in rows])
        return traces

    # ------------------------------------------------------------
    # TIMING: send windows, dates of the record, the frequency caps
    # ------------------------------------------------------------

    @api.model
    def _recipient_zone_sql(self, campaign):
        """SQL joins on the alias ``target`` (the campaign's target table) and
        the array of the recipient's time zones by priority: the record's
        ``tz``, then its partner's. The responsible's and UTC come after, in
        Python (``first_zone``)."""
        Target = self.env[campaign.model_name]
        joins, zones = [], []
        tz_field = Target._fields.get("tz")
        if tz_field and tz_field.store and tz_field.column_type:
            zones.append(SQL("target.tz::varchar"))
        partner_field = Target._fields.get("partner_id")
        if (
            partner_field
            and partner_field.type == "many2one"
            and partner_field.comodel_name == "res.partner"
            and partner_field.store
        ):
            joins.append(SQL("LEFT JOIN res_partner partner ON partner.id = target.partner_id"))
            zones.append(SQL("partner.tz::varchar"))
        return SQL(" ").join(joins), SQL("ARRAY[%s]::varchar[]", SQL(", ").join(zones))

    @api.model
    def _get_responsible_zone(self, campaign):
        # sudo: only the time zone of the responsible, a fallback never shown
        return campaign.sudo().user_id.tz

    def _move_schedule_dates(self, moves):
        """Re-date scheduled traces in one UPDATE: ``moves`` maps a trace id to
        its new date and reason (None keeps the reason). A trace another
        worker ran meanwhile is left alone."""
        if not moves:
            return self.browse()
        self.flush_model(["state", "state_msg", "schedule_date"])
        self.env.cr.execute(
            SQL(
                """
                UPDATE marketing_trace trace
                   SET schedule_date = moved.date,
                       state_msg = COALESCE(moved.message, trace.state_msg),
                       write_uid = %(uid)s, write_date = %(now)s
                  FROM (VALUES %(values)s) moved (id, date, message)
                 WHERE trace.id = moved.id AND trace.state = 'scheduled'
             RETURNING trace.id
                """,
                values=SQL(", ").join(
                    SQL(
                        "(%s::integer, %s::timestamp, %s)",
                        trace_id,
                        date,
                        self._reason_sql(message),
                    )
                    for trace_id, (date, message) in moves.items()
                ),
                uid=self.env.uid,
                now=fields.Datetime.now(),
            )
        )
        moved = self.browse(row[0] for row in self.env.cr.fetchall())
        moved.invalidate_recordset(["schedule_date", "state_msg", "write_uid", "write_date"])
        invalidate_dependents(self, ["schedule_date", "state_msg"])
        return moved

    def _apply_send_window(self, activity):
        """Move these scheduled traces of ``activity`` whose date falls outside
        its send window to the window's next opening on the recipient's wall
        clock, in one query to read the time zones and one UPDATE. Test
        traces are not moved. Return the moved traces."""
        traces = self.filtered(lambda t: t.state == "scheduled" and not t.is_test)
        if not traces or not activity._has_send_window():
            return self.browse()
        campaign = activity.campaign_id
        joins, zones = self._recipient_zone_sql(campaign)
        # read before the SELECT: a query for it would replace the SELECT's rows
        responsible_zone = self._get_responsible_zone(campaign)
        self.flush_model(["schedule_date", "res_id"])
        # the target table is read for its time zones only, whoever may read the
        # records: nothing of it is shown
        self.env.cr.execute(
            SQL(
                """
                SELECT trace.id, trace.schedule_date, %(zones)s
                  FROM marketing_trace trace
             LEFT JOIN %(table)s target ON target.id = trace.res_id
                       %(joins)s
                 WHERE trace.id IN %(ids)s AND trace.schedule_date IS NOT NULL
                """,
                zones=zones,
                table=SQL.identifier(self.env[campaign.model_name]._table),
                joins=joins,
                ids=tuple(traces.ids),
            )
        )
        moves = {}
        for trace_id, date, row_zones in self.env.cr.fetchall():
            opening = activity._get_next_opening(date, first_zone(*row_zones, responsible_zone))
            if opening != date:
                moves[trace_id] = (opening, None)
        return self._move_schedule_dates(moves)

    @api.model
    def _apply_record_dates(self, activity, condition):
        """Date the scheduled traces of the date-triggered ``activity`` that
        match ``condition`` (SQL on the alias ``trace``): at the date of their
        record minus or plus the delay (``_delay_sql``; a date counts from its
        midnight on the recipient's wall clock), then in the send window. One
        SELECT and one UPDATE whatever their number; a trace whose record has
        no date is rejected with the reason. ``sync_participants()`` calls it
        again so that the traces follow a changed date; a trace held by the
        frequency cap is only moved later."""
        campaign = activity.campaign_id
        Target = self.env[campaign.model_name]
        field = activity.date_field_id
        target_field = Target._fields.get(field.name) if field.model == Target._name else None
        if not (target_field and target_field.store and target_field.type in ("date", "datetime")):
            self.flush_model()
            self.env.cr.execute(
                SQL(
                    "SELECT trace.id FROM marketing_trace trace "
                    "WHERE %s AND trace.state = 'scheduled'",
                    condition,
                )
            )
            self.browse(row[0] for row in self.env.cr.fetchall())._set_state(
                "rejected",
                _lt("Not run: the activity has no date field of the record to count from."),
            )
            return
        joins, zones = self._recipient_zone_sql(campaign)
        # read before the SELECT: a query for it would replace the SELECT's rows
        responsible_zone = self._get_responsible_zone(campaign)
        column = SQL.identifier("target", field.name)
        self.flush_model()
        self.env["marketing.activity"].flush_model()
        Target.flush_model([name for name in (field.name, "tz", "partner_id") if name in Target])
        self.env.cr.execute(
            SQL(
                """
                SELECT trace.id, trace.schedule_date, trace.state_msg, trace.is_test,
                       %(due)s, %(zones)s
                  FROM marketing_trace trace
                  JOIN marketing_activity activity ON activity.id = trace.activity_id
             LEFT JOIN %(table)s target ON target.id = trace.res_id
                       %(joins)s
                 WHERE %(condition)s AND trace.state = 'scheduled'
                """,
                due=self._delay_sql("activity", SQL("%s::timestamp", column)),
                zones=zones,
                table=SQL.identifier(Target._table),
                joins=joins,
                condition=condition,
            )
        )
        moves, missing = {}, []
        for trace_id, date, message, is_test, due, row_zones in self.env.cr.fetchall():
            if due is None:
                missing.append(trace_id)
                continue
            zone = first_zone(*row_zones, responsible_zone)
            if target_field.type == "date":
                due = to_utc(due, zone)
            if not is_test:
                due = activity._get_next_opening(due, zone)
            # a trace the cap holds is not brought forward
            if due != date and not (message and date and due < date):
                moves[trace_id] = (due, None)
        self._move_schedule_dates(moves)
        self.browse(missing)._set_state(
            "rejected",
            _lt("Not run: the record has no %(field)s.", field=field.field_description),
        )

    def _apply_timing(self, activity_ids):
        """After these traces were scheduled (``activity_ids``: the activity of
        each, in order): date those of date-triggered activities from their
        record, move the others into their activity's send window."""
        by_activity = defaultdict(list)
        for trace_id, activity_id in zip(self.ids, activity_ids, strict=True):
            by_activity[activity_id].append(trace_id)
        activities = self.env["marketing.activity"].browse(list(by_activity))
        for activity in activities.filtered(lambda a: a.trigger_type == "date"):
            self._apply_record_dates(
                activity, SQL("trace.id IN %s", tuple(by_activity[activity.id]))
            )
        for activity in activities.filtered(
            lambda a: a.trigger_type != "date" and a._has_send_window()
        ):
            self.browse(by_activity[activity.id])._apply_send_window(activity)

    @api.model
    def _redate_record_dates(self, campaign):
        """The waiting traces of the date-triggered activities of ``campaign``
        follow the current date of their record (set-based, per activity)."""
        for activity in campaign.marketing_activity_ids.filtered(
            lambda a: a.trigger_type == "date"
        ):
            self._apply_record_dates(activity, SQL("trace.activity_id = %s", activity.id))

    def _hold_over_cap(self, channel, now):
        """The frequency cap of the company for ``channel`` (see ``FREQUENCY_CAPS``):
        no email address (phone number) receives more than ``marketing_email_cap``
        (``marketing_sms_cap``) campaign emails (SMS) of the company within
        ``marketing_email_cap_days`` (``marketing_sms_cap_days``) days. These traces
        are about to send on ``channel``: those over the cap stay scheduled,
        re-dated to when the cap allows them, with the reason; return the others.
        Tests are neither held nor counted, nor are messages sent outside
        campaigns.

        The company's advisory lock of the channel is taken before counting and
        kept until the batch is committed, with its sends marked: two workers
        count one after the other, so neither lets a message through over the
        cap."""
        spec = FREQUENCY_CAPS[channel]
        allowed = self.browse()
        for company, traces in self.grouped("company_id").items():
            cap, days = company[spec.cap_field], company[spec.days_field]
            real = traces.filtered(lambda t: not t.is_test)
            if not cap or not days or not real:
                allowed |= traces
                continue
            self.env.cr.execute(SQL("SELECT pg_advisory_xact_lock(%s, %s)", spec.lock, company.id))
            addresses = getattr(self, spec.addresses_method)(real)
            history = defaultdict(list)
            since = now - timedelta(days=days)
            if addresses:
                self.flush_model(["state", "schedule_date", "company_id", "is_test"])
                self.env["mailing.trace"].flush_model(
                    [spec.address_column, "trace_type", "trace_status", "marketing_trace_id"]
                )
                self.env.cr.execute(
                    SQL(
                        """
                        SELECT lower(%(address)s), trace.schedule_date
                          FROM marketing_trace trace
                          JOIN mailing_trace sent ON sent.marketing_trace_id = trace.id
                         WHERE trace.company_id = %(company)s
                           AND trace.state = 'processed'
                           AND trace.is_test IS NOT TRUE
                           AND trace.schedule_date > %(since)s
                           AND sent.trace_type = %(trace_type)s
                           AND sent.trace_status NOT IN ('cancel', 'error')
                           AND lower(%(address)s) IN %(addresses)s
                      ORDER BY trace.schedule_date DESC
                        """,
                        address=SQL.identifier("sent", spec.address_column),
                        company=company.id,
                        since=since,
                        trace_type=spec.trace_type,
                        addresses=tuple(set(addresses.values())),
                    )
                )
                for address, date in self.env.cr.fetchall():
                    history[address].append(date)
            moves = {}
            message = self._get_cap_reason(channel, cap, company, days)
            for trace in real.sorted("id"):
                sent = history[addresses[trace.id]] if trace.id in addresses else None
                if sent is None or len(sent) < cap:
                    if sent is not None:
                        sent.insert(0, now)
                    continue
                moves[trace.id] = (sent[cap - 1] + timedelta(days=days), message)
            held = self._move_schedule_dates(moves)
            allowed |= traces - held
        return allowed

    @api.model
    def _get_cap_reason(self, channel, cap, company, days):
        """Why a trace of ``channel`` is held by the frequency cap of ``company``."""
        if channel == "sms":
            return _lt(
                "Postponed: the recipient already received %(cap)s campaign SMS of "
                "%(company)s within %(days)s days (the company's limit).",
                cap=cap,
                company=company.name,
                days=days,
            )
        return _lt(
            "Postponed: the recipient already received %(cap)s campaign emails of "
            "%(company)s within %(days)s days (the company's limit).",
            cap=cap,
            company=company.name,
            days=days,
        )

    @api.model
    def _get_recipient_emails(self, traces):
        """The normalized email address each of ``traces`` would be sent to,
        by trace id (none when its record has no address)."""
        records = self.env[traces[:1].model_name].browse(traces.mapped("res_id"))
        recipients = records._message_get_default_recipients()
        partners = self.env["res.partner"].browse(
            {ids[0] for info in recipients.values() if (ids := info.get("partner_ids"))}
        )
        partner_emails = {partner.id: partner.email_normalized for partner in partners}
        emails = {}
        for trace in traces:
            info = recipients.get(trace.res_id) or {}
            if info.get("partner_ids"):
                email = partner_emails.get(info["partner_ids"][0])
            else:
                email = email_normalize(info.get("email_to") or "")
            if email:
                emails[trace.id] = email.lower()
        return emails

    @api.model
    def _get_recipient_numbers(self, traces):
        """The sanitized phone number each of ``traces`` would be sent an SMS
        to, as the SMS composer picks it and the mailing trace keeps it
        (``sms_number``), by trace id (none when its record has no valid
        number)."""
        records = self.env[traces[:1].model_name].browse(traces.mapped("res_id"))
        recipients = records._sms_get_recipients_info()
        numbers = {}
        for trace in traces:
            info = recipients.get(trace.res_id) or {}
            if number := info.get("sanitized"):
                numbers[trace.id] = number.lower()
        return numbers
