import logging
import threading
import time
import traceback
from collections import Counter
from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time
from psycopg2.errors import SerializationFailure

from odoo import SUPERUSER_ID, Command, api
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from .common import CRON_XMLID, CommittedDataMixin, MarketingAutomationCommon

_logger = logging.getLogger(__name__)

# an action that shows how many times it ran on each record
COUNTING_ACTION = "record.write({'ref': (record.ref or '') + '+'})"


class WorkerKilled(BaseException):
    """A worker killed mid-batch: not an ``Exception``, so nothing in the
    engine catches it, as nothing runs after a ``kill -9``."""


class Turnstile:
    """Makes two scheduler workers take turns at the worst moment.

    The scheduler reports its progress to the cron runner right after it
    committed a batch, once it counted the traces left, so in a new
    transaction whose snapshot is already taken. A worker held there until
    the other one commits its next batch then claims, sends and writes with a
    snapshot older than the other's latest commit: every conflict between two
    workers (rows claimed, processed or written by the other) shows up, at
    every batch, instead of once in a while. A worker whose partner has
    finished waits no more."""

    def __init__(self, timeout=5):
        self.timeout = timeout
        self.condition = threading.Condition()
        self.commits = Counter()
        self.finished = set()

    def _others(self, name):
        return sum(count for worker, count in self.commits.items() if worker != name)

    def notify_progress(self, *args, **kwargs):
        name = threading.current_thread().name
        with self.condition:
            self.commits[name] += 1
            self.condition.notify_all()
            before = self._others(name)
            self.condition.wait_for(
                lambda: self._others(name) > before or self.finished - {name},
                timeout=self.timeout,
            )

    def finish(self, name):
        with self.condition:
            self.finished.add(name)
            self.condition.notify_all()


class SchedulerWorkersCase(CommittedDataMixin, TransactionCase):
    """Scheduler workers on committed data and real, independent cursors (see
    ``CommittedDataMixin``). This class writes nothing in the test's own
    transaction: the mail test set-up renames the company there, which would
    block the workers' inserts referencing it until the test ends. The
    threads of ``_run_scheduler`` are not marked as testing, so the scheduler
    commits as in production. No mail can leave: nothing runs the mail queue,
    and sending raises."""

    reference_now = MarketingAutomationCommon.reference_now

    def setUp(self):
        super().setUp()
        MailServer = type(self.env["ir.mail_server"])
        for method in ("connect", "send_email"):
            patcher = patch.object(
                MailServer, method, side_effect=AssertionError("no mail leaves a test")
            )
            patcher.start()
            self.addCleanup(patcher.stop)

    # ------------------------------------------------------------
    # WORKERS
    # ------------------------------------------------------------

    def _run_scheduler(self, name, campaign_id, calls=1, barrier=None, turnstile=None):
        """Run the scheduler in a new thread with its own cursor, as the cron
        (OdooBot) does, ``calls`` times at most, until the campaign is done:
        enrolled, nothing left scheduled (while another worker enrols, a
        worker finds nothing to do yet and calls again, as the cron runner
        would a little later). Like the cron runner, each call commits or
        rolls back its transaction. Return the thread and a dict that gets
        the exception that stopped it, if any."""
        outcome = {}

        def work():
            try:
                if barrier:
                    barrier.wait()
                for _call in range(calls):
                    with self.registry.cursor() as cr:
                        cr.execute("SET lock_timeout TO '20s'")
                        env = api.Environment(cr, SUPERUSER_ID, {})
                        env["marketing.campaign"]._cron_process_campaigns()
                        campaign = env["marketing.campaign"].browse(campaign_id)
                        done = campaign.participant_ids and not env["marketing.trace"].search_count(
                            [("campaign_id", "=", campaign_id), ("state", "=", "scheduled")]
                        )
                    if done:
                        break
                    time.sleep(0.05)
            except BaseException as error:  # noqa: BLE001 - the test reports it
                _logger.info("Scheduler worker %s stopped by %r", name, error)
                outcome["error"] = error
                outcome["traceback"] = "".join(traceback.format_exception(error))
            finally:
                if turnstile:
                    turnstile.finish(name)

        return threading.Thread(target=work, name=name), outcome


@tagged("marketing_automation", "post_install", "-at_install")
class TestSchedulerWorkers(SchedulerWorkersCase):
    """Several workers claiming work at once, step by step, and a run killed
    while enrolling (the threads of many batches are in
    ``TestSchedulerThreads``)."""

    def _commit_campaign(
        self, activity_type, count, code="record.write({'ref': 'engaged'})", settings=None
    ):
        """Commit a running campaign with ``count`` traces of one root
        ``activity_type`` activity due now (an action runs ``code``), and the
        scheduler's system parameters ``settings``; return their ids."""
        data = {}
        with self._committing_env(data) as env:
            self._stop_running_campaigns(env, data)
            if settings:
                self._commit_settings(env, data, settings)
            partners = env["res.partner"].create(
                [
                    {"name": f"Worker {index}", "email": f"worker.{index}@example.com"}
                    for index in range(count)
                ]
            )
            campaign = env["marketing.campaign"].create(
                {
                    "name": "Workers",
                    "model_id": env["ir.model"]._get_id("res.partner"),
                    "domain": repr([("id", "in", partners.ids)]),
                    # committed data: the test users of this class are not visible here
                    "user_id": env.ref("base.user_admin").id,
                }
            )
            values = {"name": "Root", "campaign_id": campaign.id, "activity_type": activity_type}
            if activity_type == "email":
                values["mass_mailing_id"] = (
                    env["mailing.mailing"]
                    .create(
                        {
                            "subject": "Workers",
                            "mailing_type": "mail",
                            "mailing_model_id": env["ir.model"]._get_id("res.partner"),
                            "use_in_marketing_automation": True,
                            "body_html": "<p>Hello</p>",
                        }
                    )
                    .id
                )
            else:
                values["server_action_id"] = (
                    env["ir.actions.server"]
                    .create(
                        {
                            "name": "Workers",
                            "model_id": env["ir.model"]._get_id("res.partner"),
                            "state": "code",
                            "code": code,
                        }
                    )
                    .id
                )
            activity = env["marketing.activity"].create(
                dict(values, trigger_type="begin", interval_number=0)
            )
            campaign.state = "running"
            campaign.sync_participants()
            data.update(
                {
                    "partner_ids": partners.ids,
                    "campaign_id": campaign.id,
                    "utm_campaign_id": campaign.utm_campaign_id.id,
                    "activity_id": activity.id,
                    "mailing_id": activity.mass_mailing_id.id,
                    "server_action_id": activity.server_action_id.id,
                    "trace_ids": activity.trace_ids.ids,
                }
            )
        return data

    def test_workers_never_claim_the_same_trace(self):
        with freeze_time(self.reference_now):
            data = self._commit_campaign("action", 6)
            env_a, env_b = self._worker_env(), self._worker_env()
            activity_a = env_a["marketing.activity"].browse(data["activity_id"])
            activity_b = env_b["marketing.activity"].browse(data["activity_id"])

            # A holds every due trace: B does not wait, it gets none of them
            claimed_a = env_a["marketing.trace"]._claim_due_traces(activity_a, 10)
            self.assertEqual(sorted(claimed_a.ids), sorted(data["trace_ids"]))
            self.assertFalse(env_b["marketing.trace"]._claim_due_traces(activity_b, 10))
            env_a.cr.rollback()
            env_b.cr.rollback()

            # smaller batches: A and B share the work, without overlap
            claimed_a = env_a["marketing.trace"]._claim_due_traces(activity_a, 4)
            claimed_b = env_b["marketing.trace"]._claim_due_traces(activity_b, 4)
            self.assertEqual(len(claimed_a), 4)
            self.assertEqual(len(claimed_b), 2)
            self.assertFalse(set(claimed_a.ids) & set(claimed_b.ids))
            self.assertEqual(sorted(claimed_a.ids + claimed_b.ids), sorted(data["trace_ids"]))

            # A runs its batch and commits
            activity_a._execute(claimed_a)
            env_a["marketing.trace"].flush_model()
            env_a.cr.commit()
            # B's transaction started before A's commit: its snapshot still shows
            # A's traces scheduled, but it cannot lock them
            with mute_logger("odoo.sql_db"), self.assertRaises(SerializationFailure):
                env_b["marketing.trace"]._claim_due_traces(activity_b, 10)
            env_b.cr.rollback()
            # in a new transaction B only finds its own traces, still to run
            env_b.invalidate_all()
            reclaimed_b = env_b["marketing.trace"]._claim_due_traces(activity_b, 10)
            self.assertEqual(sorted(reclaimed_b.ids), sorted(claimed_b.ids))
            self.assertEqual(set(reclaimed_b.mapped("state")), {"scheduled"})
            activity_b._execute(reclaimed_b)
            env_b.cr.commit()

            check = self._worker_env()
            traces = check["marketing.trace"].browse(data["trace_ids"])
            self.assertEqual(set(traces.mapped("state")), {"processed"})
            self.assertFalse(check["marketing.trace"]._claim_due_traces(traces.activity_id, 10))
            partners = check["res.partner"].browse(data["partner_ids"])
            self.assertEqual(set(partners.mapped("ref")), {"engaged"})

    def _assert_ran_once(self, data, count=None):
        """Every trace of the committed campaign ran, its action exactly once."""
        check = self._worker_env()
        traces = check["marketing.campaign"].browse(data["campaign_id"]).participant_ids.trace_ids
        self.assertEqual(len(traces), count or len(data["trace_ids"]))
        self.assertEqual(set(traces.mapped("state")), {"processed"})
        partners = check["res.partner"].browse(data["partner_ids"])
        self.assertEqual(partners.mapped("ref"), ["+"] * len(partners))

    def test_concurrent_schedulers_both_finish(self):
        """Two workers call the scheduler over the same campaign; B runs the
        due traces and commits after A's transaction began. A must neither die
        on the conflict (its snapshot still shows B's traces as due) nor run
        them again."""
        with freeze_time(self.reference_now):
            data = self._commit_campaign("action", 6, code=COUNTING_ACTION)
            env_a, env_b = self._worker_env(), self._worker_env()
            env_a.cr.execute("SELECT 1")  # A's transaction, and its snapshot, begin here
            env_b["marketing.scheduler"]._run()
            env_b.cr.commit()
            self._assert_ran_once(data)  # B ran them all

            campaign_a = env_a["marketing.campaign"].browse(data["campaign_id"])
            env_a["marketing.scheduler"]._run()
            env_a.cr.commit()
            self.assertFalse(campaign_a.scheduler_error)
            self._assert_ran_once(data)

    def test_enrolment_claimed_by_one_worker(self):
        """While A enrols a campaign (it holds the campaign's row), B skips its
        enrolment without waiting and without writing the campaign, and still
        runs its due traces; A's next run enrols the new record."""
        with freeze_time(self.reference_now) as frozen:
            data = self._commit_campaign("action", 4, code=COUNTING_ACTION)
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
                newcomer = env["res.partner"].create({"name": "Worker new"})
                data["partner_ids"].append(newcomer.id)
                campaign = env["marketing.campaign"].browse(data["campaign_id"])
                campaign.domain = repr([("id", "in", data["partner_ids"])])
                last_sync_date = campaign.last_sync_date
            # the next run of the job: enrolment is due
            frozen.tick(timedelta(minutes=15))
            env_a, env_b = self._worker_env(), self._worker_env()
            self.assertTrue(
                env_a["marketing.campaign"].browse(data["campaign_id"])._claim_for_enrolment()
            )

            env_b["marketing.scheduler"]._run()
            env_b.cr.commit()
            env_a.cr.rollback()  # A releases the campaign
            check = self._worker_env()
            campaign = check["marketing.campaign"].browse(data["campaign_id"])
            self.assertEqual(campaign.last_sync_date, last_sync_date, "B did not write the row")
            self.assertEqual(len(campaign.participant_ids), 4, "B did not enrol")
            self.assertEqual(set(campaign.participant_ids.trace_ids.mapped("state")), {"processed"})
            check.cr.rollback()

            worker = self._worker_env()
            worker["marketing.scheduler"]._run()
            worker.cr.commit()
            self._assert_ran_once(data, count=5)

    def test_progress_reported_to_cron_runner(self):
        """Each committed batch reports what is done and what is left, counted
        up to the work of one call (batch size x batches per call)."""
        with freeze_time(self.reference_now):
            data = self._commit_campaign("action", 5, settings={"batch_size": 2})
            worker = self._worker_env()
            cron = worker.ref(CRON_XMLID)
            progress = worker["ir.cron.progress"].create({"cron_id": cron.id})
            worker = worker(context={"ir_cron_progress_id": progress.id})
            campaign = worker["marketing.campaign"].browse(data["campaign_id"])
            users = {campaign.id: campaign.user_id}
            activities = worker["marketing.scheduler"]._get_activities(campaign)
            self.addCleanup(self._remove_progress, progress.id)
            execute = worker["marketing.scheduler"]._execute

            self.assertEqual(execute(activities, users, auto_commit=True, max_batches=1), 2)
            self.assertEqual((progress.done, progress.remaining), (2, 2), "3 left, counted to 2")
            self.assertEqual(execute(activities, users, auto_commit=True, max_batches=2), 3)
            self.assertEqual((progress.done, progress.remaining), (3, 0))

    def _remove_progress(self, progress_id):
        with self.registry.cursor() as cr:
            api.Environment(cr, SUPERUSER_ID, {})["ir.cron.progress"].browse(progress_id).unlink()

    def test_enrolment_after_a_killed_run(self):
        """A run killed while enrolling: the first campaign enrolled and
        committed, the second killed after inserting its participants, before
        their root traces. The next run enrols the rest: every record once in
        each campaign, each participant with its root trace."""
        data = {}
        with self._committing_env(data) as env:
            self._stop_running_campaigns(env, data)
            partners = env["res.partner"].create(
                [{"name": f"Killed run {index}"} for index in range(4)]
            )
            action = env["ir.actions.server"].create(
                {
                    "name": "Killed run",
                    "model_id": env["ir.model"]._get_id("res.partner"),
                    "state": "code",
                    "code": COUNTING_ACTION,
                }
            )
            campaigns = env["marketing.campaign"].create(
                [
                    {
                        "name": f"Killed run {name}",
                        "model_id": env["ir.model"]._get_id("res.partner"),
                        "domain": repr([("id", "in", partners.ids)]),
                        "user_id": env.ref("base.user_admin").id,
                        "marketing_activity_ids": [
                            Command.create(
                                {
                                    "name": "Tomorrow",
                                    "activity_type": "action",
                                    "server_action_id": action.id,
                                    "interval_number": 1,
                                    "interval_type": "days",
                                }
                            )
                        ],
                    }
                    for name in "XY"
                ]
            )
            campaigns.action_start_campaign()
            data.update(
                {
                    "partner_ids": partners.ids,
                    "campaign_id": campaigns.ids,
                    "utm_campaign_id": campaigns.utm_campaign_id.ids,
                    "server_action_id": action.id,
                }
            )

        Participant = type(self.env["marketing.participant"])
        create_root_traces = Participant._create_root_traces
        calls = []

        def create_then_die_on_second_campaign(participants, now):
            calls.append(participants.campaign_id.id)
            if len(calls) == 2:
                raise WorkerKilled()
            return create_root_traces(participants, now)

        with patch.object(
            Participant,
            "_create_root_traces",
            autospec=True,
            side_effect=create_then_die_on_second_campaign,
        ):
            thread, outcome = self._run_scheduler("killed while enrolling", campaigns[0].id)
            thread.start()
            thread.join(timeout=60)
        self.assertIsInstance(outcome.get("error"), WorkerKilled)
        self.assertEqual(sorted(calls), sorted(campaigns.ids))
        check = self._worker_env()
        enrolled = check["marketing.campaign"].browse(calls[0])
        killed = check["marketing.campaign"].browse(calls[1])
        self.assertEqual(len(enrolled.participant_ids), 4, "committed before the kill")
        self.assertFalse(killed.participant_ids, "lost with the transaction, not half-enrolled")
        self.assertFalse(killed.last_sync_date)
        check.cr.rollback()

        thread, outcome = self._run_scheduler("next run", killed.id)
        thread.start()
        thread.join(timeout=60)
        self.assertNotIn("error", outcome)
        check.invalidate_all()
        for campaign in check["marketing.campaign"].browse(campaigns.ids):
            participants = campaign.participant_ids
            self.assertEqual(sorted(participants.mapped("res_id")), sorted(partners.ids))
            traces = participants.trace_ids
            self.assertEqual(sorted(traces.participant_id.ids), sorted(participants.ids))
            self.assertEqual(len(traces), 4, "one root trace per participant")
            self.assertEqual(set(traces.mapped("state")), {"scheduled"})
            self.assertTrue(campaign.last_sync_date)


@tagged("marketing_automation", "marketing_automation_slow", "post_install", "-at_install")
class TestSchedulerThreads(SchedulerWorkersCase):
    """Scheduler workers running at the same time in threads, and a worker
    killed in the middle of a batch: slow (hundreds of traces, real commits),
    tagged ``marketing_automation_slow``."""

    # ------------------------------------------------------------
    # COMMITTED DATA
    # ------------------------------------------------------------

    def _commit_campaign(self, size, settings):
        """Commit a running campaign of a marketing user on ``size`` new
        contacts: an email at once, then a server action at once. Each run of
        the action appends ``"a"`` to the contact's reference, so a contact
        whose action ran twice shows it. The other running campaigns of the
        database are stopped meanwhile (the scheduler runs every running
        campaign), and ``settings`` are the scheduler's system parameters."""
        data = {}
        with self._committing_env(data) as env:
            self._stop_running_campaigns(env, data)
            self._commit_settings(env, data, settings)
            user = (
                env["res.users"]
                .with_context(no_reset_password=True)
                .create(
                    {
                        "name": "Concurrent Marketer",
                        "login": "concurrent_marketer",
                        "email": "concurrent.marketer@example.com",
                        "groups_id": [
                            Command.set(
                                [
                                    env.ref("base.group_user").id,
                                    env.ref("base.group_partner_manager").id,
                                    env.ref(
                                        "marketing_automation_community."
                                        "group_marketing_automation_user"
                                    ).id,
                                ]
                            )
                        ],
                    }
                )
            )
            data["user_id"] = user.id
            partners = env["res.partner"].create(
                [
                    {"name": f"Concurrent {index}", "email": f"concurrent.{index}@example.com"}
                    for index in range(size)
                ]
            )
            data["partner_ids"] = partners.ids
            partner_model = env["ir.model"]._get("res.partner")
            mailing = env["mailing.mailing"].create(
                {
                    "subject": "Concurrent welcome",
                    "mailing_type": "mail",
                    "mailing_model_id": partner_model.id,
                    "use_in_marketing_automation": True,
                    "body_html": "<p>Welcome</p>",
                }
            )
            data["mailing_id"] = mailing.id
            action = env["ir.actions.server"].create(
                {
                    "name": "Count the runs",
                    "model_id": partner_model.id,
                    "state": "code",
                    "code": "record.write({'ref': (record.ref or '') + 'a'})",
                }
            )
            data["server_action_id"] = action.id
            campaign = (
                env["marketing.campaign"]
                .with_user(user)
                .create(
                    {
                        "name": "Concurrency",
                        "model_id": partner_model.id,
                        "domain": repr([("id", "in", partners.ids)]),
                    }
                )
            )
            data["campaign_id"] = campaign.id
            data["utm_campaign_id"] = campaign.utm_campaign_id.id
            Activity = env["marketing.activity"].with_user(user)
            email = Activity.create(
                {
                    "name": "Welcome",
                    "campaign_id": campaign.id,
                    "activity_type": "email",
                    "mass_mailing_id": mailing.id,
                    "interval_number": 0,
                }
            )
            action_activity = Activity.create(
                {
                    "name": "Count",
                    "campaign_id": campaign.id,
                    "activity_type": "action",
                    "server_action_id": action.id,
                    "trigger_type": "activity",
                    "parent_id": email.id,
                    "interval_number": 0,
                }
            )
            data["email_activity_id"] = email.id
            data["action_activity_id"] = action_activity.id
            campaign.action_start_campaign()
        return data

    def _check_exactly_once(self, data):
        """Every trace ran, once: one mail and one mailing trace per email
        trace, one run of the action per contact."""
        env = self._worker_env()
        partners = env["res.partner"].browse(data["partner_ids"])
        campaign = env["marketing.campaign"].browse(data["campaign_id"])
        participants = campaign.participant_ids
        traces = participants.trace_ids
        self.assertEqual(
            Counter(traces.mapped("state")),
            Counter(processed=2 * len(partners)),
            Counter(traces.mapped("state_msg")),
        )
        self.assertEqual(sorted(participants.mapped("res_id")), sorted(partners.ids))
        self.assertEqual(set(participants.mapped("state")), {"completed"})
        email_traces = traces.filtered(lambda t: t.activity_id.id == data["email_activity_id"])
        self.assertEqual(len(email_traces.mailing_trace_ids), len(partners))
        for trace in email_traces:
            self.assertEqual(len(trace.mailing_trace_ids), 1, "one message per trace")
        mails = env["mail.mail"].search([("mailing_id", "=", data["mailing_id"])])
        self.assertEqual(len(mails), len(partners), "one mail per contact")
        self.assertEqual(
            sorted(partner.id for mail in mails for partner in mail.recipient_ids),
            sorted(partners.ids),
        )
        self.assertEqual(set(partners.mapped("ref")), {"a"}, "the action ran once per contact")

    def _count_action_runs(self):
        """Count the runs of server actions per worker (thread name); the
        worker dies at the next run once ``kill["after"]`` runs are done."""
        Action = type(self.env["ir.actions.server"])
        run_origin = Action.run
        runs = Counter()
        kill = {"after": None}
        lock = threading.Lock()

        def run(action):
            if kill["after"] is not None and sum(runs.values()) >= kill["after"]:
                raise WorkerKilled()
            result = run_origin(action)
            with lock:
                runs[threading.current_thread().name] += 1
            return result

        patcher = patch.object(Action, "run", autospec=True, side_effect=run)
        patcher.start()
        self.addCleanup(patcher.stop)
        return runs, kill

    # ------------------------------------------------------------
    # TESTS
    # ------------------------------------------------------------

    def test_two_workers_run_each_trace_once(self):
        """Two workers run the scheduler at the same time over the same
        participants (enrolment, an email, then an action): both finish,
        every trace runs exactly once, every mail is generated once."""
        data = self._commit_campaign(300, {"batch_size": 20, "cron_max_batches": 2})
        action_runs, _kill = self._count_action_runs()
        turnstile = Turnstile()
        barrier = threading.Barrier(2, timeout=60)
        workers = [
            self._run_scheduler(
                name, data["campaign_id"], calls=100, barrier=barrier, turnstile=turnstile
            )
            for name in "AB"
        ]
        with (
            patch.object(
                type(self.env["ir.cron"]),
                "_notify_progress",
                autospec=True,
                side_effect=turnstile.notify_progress,
            ),
            # the conflicts between the workers are expected: PostgreSQL reports them
            mute_logger("odoo.sql_db"),
        ):
            for thread, _outcome in workers:
                thread.start()
            for thread, _outcome in workers:
                thread.join(timeout=600)
        for thread, outcome in workers:
            self.assertFalse(thread.is_alive(), f"worker {thread.name} is stuck")
            if "error" in outcome:
                self.fail(f"worker {thread.name} died: {outcome['traceback']}")
        # both really ran batches, taking turns
        self.assertEqual(set(turnstile.commits), {"A", "B"})
        self.assertEqual(sum(action_runs.values()), 300, action_runs)
        self._check_exactly_once(data)

    def test_killed_worker_loses_and_repeats_nothing(self):
        """A worker killed in the middle of a batch (once while sending the
        email, once in the action's batch) loses that batch's transaction: the
        next run does that work, and nothing runs twice."""
        data = self._commit_campaign(60, {"batch_size": 10, "cron_max_batches": 100})
        action_runs, kill = self._count_action_runs()
        Mailing = type(self.env["mailing.mailing"])
        send_origin = Mailing._action_send_mail
        sends = []

        def send_then_die_on_third_batch(mailing, res_ids=None):
            result = send_origin(mailing, res_ids)
            sends.append(res_ids)
            if len(sends) == 3:
                raise WorkerKilled()
            return result

        with patch.object(
            Mailing, "_action_send_mail", autospec=True, side_effect=send_then_die_on_third_batch
        ):
            thread, outcome = self._run_scheduler("killed in the email step", data["campaign_id"])
            thread.start()
            thread.join(timeout=300)
        self.assertIsInstance(outcome.get("error"), WorkerKilled)

        env = self._worker_env()
        email = env["marketing.activity"].browse(data["email_activity_id"])
        sent = email.trace_ids.filtered(lambda t: t.state == "processed")
        # two batches committed; the third was sent, then lost with its transaction
        self.assertEqual(len(sent), 20)
        self.assertEqual(sorted(sent.mapped("res_id")), sorted(sends[0] + sends[1]))
        self.assertEqual(
            Counter(email.trace_ids.mapped("state")), Counter(processed=20, scheduled=40)
        )
        mails = env["mail.mail"].search([("mailing_id", "=", data["mailing_id"])])
        self.assertEqual(
            sorted(partner.id for mail in mails for partner in mail.recipient_ids),
            sorted(sends[0] + sends[1]),
        )
        self.assertFalse((email.trace_ids - sent).mailing_trace_ids)
        env.cr.rollback()

        kill["after"] = 25
        thread, outcome = self._run_scheduler("killed in the action step", data["campaign_id"])
        thread.start()
        thread.join(timeout=300)
        kill["after"] = None
        self.assertIsInstance(outcome.get("error"), WorkerKilled)
        env.invalidate_all()
        partners = env["res.partner"].browse(data["partner_ids"])
        action = env["marketing.activity"].browse(data["action_activity_id"])
        # every email went; 2 batches of the action were committed, the third died
        self.assertEqual(set(email.trace_ids.mapped("state")), {"processed"})
        self.assertEqual(
            Counter(action.trace_ids.mapped("state")), Counter(processed=20, scheduled=40)
        )
        self.assertEqual(Counter(partners.mapped("ref")), Counter({"a": 20, False: 40}))
        env.cr.rollback()

        thread, outcome = self._run_scheduler("next run", data["campaign_id"], calls=5)
        thread.start()
        thread.join(timeout=300)
        self.assertNotIn("error", outcome)
        self.assertEqual(action_runs["next run"], 40)
        self.assertEqual(
            sum(action_runs.values()), 65, "20 + 5 lost with their transaction + 40 done again"
        )
        self._check_exactly_once(data)
