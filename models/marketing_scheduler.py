import logging
import threading
from datetime import timedelta

from psycopg2.errors import DeadlockDetected, LockNotAvailable, SerializationFailure

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

# concurrency conflicts with another worker or a user's call: the work is left
# to it, or looked at again from a new transaction
TRANSIENT_ERRORS = (SerializationFailure, LockNotAvailable, DeadlockDetected)
# how many times one scheduler call looks again after such a conflict
MAX_CLAIM_CONFLICTS = 10
# the scheduler jobs (data/ir_cron_data.xml): the one active by default, and
# the second one an administrator activates so that two cron workers share the work
SCHEDULER_JOBS = (
    "marketing_automation_community.ir_cron_marketing_automation",
    "marketing_automation_community.ir_cron_marketing_automation_worker_2",
)
# the system parameters of the scheduler (prefixed with the module's name) and
# their defaults: traces per batch, batches per call, minutes between two
# enrolments of a campaign by the scheduler
SETTINGS = {
    "batch_size": 200,
    "cron_max_batches": 10,
    "enrolment_interval": 10,
}


class MarketingScheduler(models.AbstractModel):
    """The scheduler of the running campaigns, one call of its job read top
    down in ``_run``: enrol, expire, execute, plan the next run.

    The rows it works on keep their own primitives: a campaign is claimed for
    enrolment (``_claim_for_enrolment``) and enrols (``sync_participants``),
    traces are claimed (``_claim_due_traces``), expire (``_cancel_expired``)
    and complete their participants (``_complete_participants``), an activity
    runs a batch (``_execute``)."""

    _name = "marketing.scheduler"
    _description = "Marketing Automation Scheduler"

    # ------------------------------------------------------------
    # THE PIPELINE
    # ------------------------------------------------------------

    @api.model
    def _run(self):
        """One call of a scheduler job, as OdooBot, over every running
        campaign, each with the rights of its responsible. A campaign that
        fails (its filter, its responsible, its data) shows why on its form
        and never stops the others.

        A call runs a bounded number of batches and reports its progress:
        the cron runner calls again at once while due traces remain. The
        repeated calls do not enrol again: a campaign is enrolled when its
        last enrolment is older than ``enrolment_interval`` minutes (Start,
        Update and a changed filter ask for one at the next call).

        Several workers may run it at once (README, "Several scheduler
        workers"): each campaign's enrolment is claimed by one worker and each
        batch of traces by one worker, so they share the work and never write
        the same row."""
        auto_commit = not getattr(threading.current_thread(), "testing", False)
        campaigns = self.env["marketing.campaign"].search([("state", "=", "running")])
        activities = self._get_activities(campaigns)
        users = self._enrol_and_expire(campaigns, activities, auto_commit)
        activities = activities.filtered(lambda a: a.campaign_id.id in users)
        self._execute(
            activities,
            users,
            auto_commit=auto_commit,
            max_batches=self._get_setting("cron_max_batches"),
        )
        try:
            with self.env.cr.savepoint():
                self._plan_next_run(activities)
        except Exception:  # noqa: BLE001 - the job still runs at its interval
            self.env.invalidate_all()
            _logger.exception("Marketing Automation: the next scheduler run could not be planned")

    # ------------------------------------------------------------
    # 1. ENROL AND EXPIRE, campaign by campaign
    # ------------------------------------------------------------

    @api.model
    def _enrol_and_expire(self, campaigns, activities, auto_commit):
        """Enrol the ``campaigns`` due for it (``_is_enrolment_due``) and
        expire the waiting traces of those whose ``activities`` expire, each
        campaign claimed by this worker; a campaign with nothing to do here
        costs no query. Return the campaigns whose traces may run, by id, with
        the user whose rights run them: their responsible."""
        expiring = set(activities.filtered("validity_duration").campaign_id.ids)
        users = {}
        for campaign in campaigns:
            try:
                user = campaign._check_running_user()
            except UserError:
                user = None
            due = self._is_enrolment_due(campaign)
            if user and not (due or campaign.id in expiring or campaign.scheduler_error):
                users[campaign.id] = user
                continue
            if self._enrol_and_expire_claimed(campaign, due):
                try:
                    users[campaign.id] = campaign._check_running_user()
                except UserError:
                    # the worker that holds the campaign shows why on its form
                    _logger.info("Marketing campaign %s: no valid responsible", campaign.id)
            if auto_commit:
                # enrolment is set-based and idempotent: keep each campaign's
                # work, and release its row for the other workers
                self.env.cr.commit()  # pylint: disable=invalid-commit
        return users

    @api.model
    def _enrol_and_expire_claimed(self, campaign, enrol):
        """Check the responsible of ``campaign``, enrol it (when ``enrol``)
        and expire its waiting traces, unless another worker holds it. Every
        error is handled here: the campaign's error is shown on its form (and
        cleared once it is gone), a conflict with another worker skips the
        campaign until the next call. Return whether its traces may run."""
        try:
            with self.env.cr.savepoint():
                if not campaign._claim_for_enrolment():
                    _logger.info("Marketing campaign %s: enrolled by another worker", campaign.id)
                    return True
                try:
                    with self.env.cr.savepoint():
                        campaign._check_running_user()
                        if enrol:
                            campaign.sync_participants()
                        self._expire(campaign)
                    error = False
                except TRANSIENT_ERRORS:
                    raise
                except Exception as error_:  # noqa: BLE001 - shown on the campaign
                    self.env.invalidate_all(flush=False)
                    error = campaign._get_scheduler_error_message(error_)
                campaign._set_scheduler_error(error)
                self.env.flush_all()
        except TRANSIENT_ERRORS:
            # another worker changed the same rows since this call began: it
            # does the work, this call only runs the campaign's traces
            self.env.invalidate_all(flush=False)
            _logger.info("Marketing campaign %s: busy in another worker", campaign.id)
            return True
        return not error

    @api.model
    def _is_enrolment_due(self, campaign):
        """Whether the scheduler enrols ``campaign`` in this call: never
        enrolled since it was started, updated or its filter changed (they
        clear ``last_sync_date``), or last enrolled more than
        ``enrolment_interval`` minutes ago (10 by default, less than the 15
        minutes of the job). The calls the cron runner repeats while traces
        remain (seconds or minutes apart) do not enrol again."""
        interval = timedelta(minutes=self._get_setting("enrolment_interval"))
        last = campaign.last_sync_date
        return not last or last <= fields.Datetime.now() - interval

    @api.model
    def _expire(self, campaigns):
        """Cancel the event-triggered traces of ``campaigns`` whose event did
        not come in time (see ``marketing.trace._cancel_expired``); only the
        activities that expire are looked at, through the partial index of
        waiting traces. Before a batch runs, its own traces expire in
        ``marketing.activity._execute_batch``."""
        activities = self.env["marketing.activity"].search(
            [("campaign_id", "in", campaigns.ids), ("validity_duration", "=", True)]
        )
        if not activities:
            return
        expired = self.env["marketing.trace"]._cancel_expired(
            SQL(
                "trace.activity_id IN %s AND trace.schedule_date IS NULL",
                tuple(activities.ids),
            ),
            fields.Datetime.now(),
        )
        expired._complete_participants()

    # ------------------------------------------------------------
    # 2. EXECUTE
    # ------------------------------------------------------------

    @api.model
    def _get_activities(self, campaigns):
        """The activities of the running ``campaigns``: the scheduler's scope."""
        return self.env["marketing.activity"].search(
            [("campaign_id", "in", campaigns.filtered(lambda c: c.state == "running").ids)]
        )

    @api.model
    def _execute(self, activities, users, auto_commit=False, max_batches=None):
        """Execute the due traces of ``activities`` in bounded batches, at
        most ``max_batches`` of them, each with the rights of its campaign's
        user in ``users`` (by campaign id). With ``auto_commit`` (the
        scheduler's job), each batch is committed and the progress reported to
        the cron runner. Children due at once are run in the same call. Return
        the number of traces handled."""
        batch_size = self._get_setting("batch_size")
        done = batches = conflicts = 0
        while max_batches is None or batches < max_batches:
            try:
                with self.env.cr.savepoint(flush=False):
                    activity, traces = self._claim_next_batch(activities, batch_size)
            except TRANSIENT_ERRORS:
                # another worker committed some of these traces after this
                # transaction began: look again from a new transaction
                self.env.invalidate_all(flush=False)
                conflicts += 1
                if not auto_commit or conflicts > MAX_CLAIM_CONFLICTS:
                    break
                # nothing is pending (each batch is committed): end the
                # transaction so that the next claim sees the other worker's work
                self.env.cr.commit()  # pylint: disable=invalid-commit
                continue
            if not traces:
                break
            try:
                with self.env.cr.savepoint():
                    activity._execute(traces, users[activity.campaign_id.id])
            except TRANSIENT_ERRORS:
                # a user's call or another worker changed rows of this batch: it
                # stays scheduled and runs at the next call
                self.env.invalidate_all(flush=False)
                _logger.info(
                    "Marketing traces %s: busy elsewhere, left for the next run", traces.ids
                )
                break
            except Exception as error:  # noqa: BLE001 - the scheduler goes on with the others
                self.env.invalidate_all(flush=False)
                traces._set_error(error, fields.Datetime.now())
            try:
                with self.env.cr.savepoint():
                    traces._complete_participants()
            except TRANSIENT_ERRORS:
                # another worker changed the same participants: they are
                # completed by whichever of them runs their last trace
                self.env.invalidate_all(flush=False)
            done += len(traces)
            batches += 1
            if auto_commit:
                # the batch is done (its messages are queued, its actions ran):
                # committing it releases its rows and makes it final, so a crash
                # later never runs it again
                self.env.cr.commit()  # pylint: disable=invalid-commit
                remaining = self._count_due(activities, batch_size * (max_batches or 1))
                self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return done

    @api.model
    def _claim_next_batch(self, activities, limit):
        """Claim the next batch of due traces, all of the first of
        ``activities`` that has some (``marketing.trace._claim_due_traces``,
        a ``LIMIT`` claim over the partial index of due traces); an empty
        recordset when nothing is due. One query finds that activity, an index
        probe per activity, and then claims its batch; when another worker
        holds all its due traces, the activities after it are looked at."""
        Trace = self.env["marketing.trace"]
        while activity := self._first_with_due_traces(activities):
            if traces := Trace._claim_due_traces(activity, limit):
                return activity, traces
            activities = activities[activities.ids.index(activity.id) + 1 :]
        return self.env["marketing.activity"], Trace

    @api.model
    def _first_with_due_traces(self, activities):
        """The first of ``activities`` that has a trace due now."""
        if not activities:
            return activities
        self.env.cr.execute(
            SQL(
                """
                SELECT activity.id
                  FROM unnest(%s::int[]) WITH ORDINALITY AS activity(id, position)
                 WHERE EXISTS (%s)
              ORDER BY activity.position
                 LIMIT 1
                """,
                activities.ids,
                self._due_trace_query(future=False).select(SQL("1")),
            )
        )
        row = self.env.cr.fetchone()
        return activities.browse(row[0] if row else ())

    @api.model
    def _due_trace_query(self, future):
        """The query of the traces due now (or later, with ``future``) of the
        activity ``activity.id`` of an outer query, in the order they are
        due: ``marketing.trace._get_due_domain`` compiled by the ORM, over the
        partial index of due traces."""
        Trace = self.env["marketing.trace"]
        # sudo: which traces are due, whoever may read them
        query = Trace.sudo()._search(
            Trace._get_due_domain(None, fields.Datetime.now(), future=future)
        )
        table = SQL.identifier(query.table)
        query.add_where(SQL("%s.activity_id = activity.id", table))
        query.order = SQL("%s.schedule_date", table)
        query.limit = 1
        return query

    @api.model
    def _count_due(self, activities, cap):
        """How many traces of ``activities`` are due, counted up to ``cap``
        (the work of one call): what the cron runner needs to call again,
        without counting a backlog of millions after every batch."""
        if not activities:
            return 0
        Trace = self.env["marketing.trace"]
        # sudo: how much is left, whoever may read the traces
        query = Trace.sudo()._search(
            Trace._get_due_domain([activity.id for activity in activities], fields.Datetime.now())
        )
        query.limit = cap
        self.env.cr.execute(SQL("SELECT COUNT(*) FROM (%s) due", query.select()))
        return self.env.cr.fetchone()[0]

    # ------------------------------------------------------------
    # 3. PLAN THE NEXT RUN
    # ------------------------------------------------------------

    @api.model
    def _plan_next_run(self, activities):
        """Wake the scheduler for the earliest trace of ``activities`` due in
        the future: one query, an index probe per activity."""
        if not activities:
            return
        query = self._due_trace_query(future=True)
        self.env.cr.execute(
            SQL(
                """
                SELECT MIN(next_trace.schedule_date)
                  FROM unnest(%s::int[]) AS activity(id)
                  CROSS JOIN LATERAL (%s) next_trace
                """,
                activities.ids,
                query.select(SQL("%s.schedule_date", SQL.identifier(query.table))),
            )
        )
        if next_date := self.env.cr.fetchone()[0]:
            self._wake(next_date)

    # ------------------------------------------------------------
    # JOBS AND SETTINGS
    # ------------------------------------------------------------

    @api.model
    def _get_jobs(self):
        """The active scheduler jobs, found by XML id: the one shipped active,
        and the second one once an administrator activated it."""
        # sudo: which jobs exist is configuration; they are only triggered
        xmlid_to_res_id = self.env["ir.model.data"]._xmlid_to_res_id
        return (
            self.env["ir.cron"]
            .sudo()
            .browse(filter(None, map(xmlid_to_res_id, SCHEDULER_JOBS)))
            .filtered("active")
        )

    @api.model
    def _wake(self, at=None):
        """Run the scheduler at ``at`` (now by default), in every active job:
        the one place that wakes it, for traces that became due before its
        next run."""
        for job in self._get_jobs():
            job._trigger(at)

    @api.model
    def _get_setting(self, name):
        """The positive integer of the system parameter
        ``marketing_automation_community.<name>``, or its default in
        ``SETTINGS`` when it is missing or wrong (a typo in the settings never
        stops the scheduler)."""
        default = SETTINGS[name]
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
