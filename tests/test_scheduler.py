from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time
from psycopg2.errors import SerializationFailure

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.base.tests.test_ir_cron import CronMixinCase

from .common import CRON_XMLID, CommittedDataMixin, MarketingAutomationCommon

SECOND_CRON_XMLID = "marketing_automation_community.ir_cron_marketing_automation_worker_2"
# an action that shows how many times it ran on each record
COUNTING_ACTION = "record.write({'ref': (record.ref or '') + '+'})"


@tagged("marketing_automation", "post_install", "-at_install")
class TestCron(MarketingAutomationCommon, CronMixinCase):
    """The scheduler: what it runs, in which batches and when it wakes up."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cron = cls.env.ref(CRON_XMLID)
        # the test contacts and the ones created later on match the filter
        cls.domain = [("name", "=like", "Contact %")]
        cls._act_as_marketing_user()

    # ------------------------------------------------------------
    # SCHEDULER
    # ------------------------------------------------------------

    def test_cron_record(self):
        """The scheduler runs every 15 minutes (SPEC decision 14) and its run
        enrols and executes running campaigns."""
        self.assertTrue(self.cron.active)
        self.assertEqual((self.cron.interval_number, self.cron.interval_type), (15, "minutes"))
        campaign = self._create_campaign(domain=self.domain)
        self._create_activity(campaign, "action")
        campaign.action_start_campaign()
        self._run_cron()
        self.assertEqual(len(campaign.participant_ids), len(self.contacts))
        self.assertTraceStates(campaign.participant_ids.trace_ids, "processed")

    def test_every_active_scheduler_job_woken(self):
        """A second scheduler job is shipped inactive; once an administrator
        activates it (or copies the job), waking the scheduler wakes every job,
        so that several cron workers share the work."""
        # scheduled actions are configured by administrators
        second = self.env.ref(SECOND_CRON_XMLID).sudo()
        self.assertFalse(second.active)
        with (
            self.capture_triggers(CRON_XMLID) as main,
            self.capture_triggers(SECOND_CRON_XMLID) as other,
        ):
            self.env["marketing.trace"]._wake_scheduler()
        self.assertEqual((len(main.records), len(other.records)), (1, 0))
        second.active = True
        third = second.copy()
        with (
            self.capture_triggers(CRON_XMLID) as main,
            self.capture_triggers(SECOND_CRON_XMLID) as other,
            self.capture_triggers(third.id) as copy,
        ):
            self.env["marketing.trace"]._wake_scheduler(self.reference_now)
        self.assertEqual((len(main.records), len(other.records), len(copy.records)), (1, 1, 1))
        self.assertEqual(copy.records.call_at, self.reference_now)

    def test_cron_runs_running_campaigns_only(self):
        running = self._create_campaign(domain=self.domain, name="Running")
        running_root = self._create_activity(running, "action")
        draft = self._create_campaign(domain=self.domain, name="Draft")
        self._create_activity(draft, "action")
        stopped = self._create_campaign(domain=self.domain, name="Stopped")
        stopped_root = self._create_activity(stopped, "email")
        with freeze_time(self.reference_now) as frozen, self.mock_mail_gateway():
            running.action_start_campaign()
            stopped.action_start_campaign()
            stopped.sync_participants()
            stopped.action_stop_campaign()
            frozen.tick(timedelta(hours=1))
            newcomer = self.env["res.partner"].create(
                {"name": "Contact newcomer", "email": "newcomer@example.com"}
            )
            self._run_cron()

        # running: enrolled (newcomer included), then executed in the same call
        self.assertEqual(
            sorted(running.participant_ids.mapped("res_id")), sorted((self.contacts + newcomer).ids)
        )
        self.assertTraceStates(running_root.trace_ids, "processed")
        self.assertEqual(set((self.contacts + newcomer).mapped("ref")), {"engaged"})
        self.assertEqual(running.last_sync_date, self.reference_now + timedelta(hours=1))
        self.assertEqual(running.completed_participant_count, 4)
        # draft: nobody enrolled
        self.assertFalse(draft.participant_ids)
        self.assertFalse(draft.last_sync_date)
        # stopped: no newcomer, its due traces wait
        self.assertEqual(
            sorted(stopped.participant_ids.mapped("res_id")), sorted(self.contacts.ids)
        )
        self.assertTraceStates(stopped_root.trace_ids, "scheduled")
        self.assertEqual(stopped.last_sync_date, self.reference_now)
        self.assertFalse(stopped_root.trace_ids.mailing_trace_ids)
        self.assertFalse(self._new_mails)

    def test_cron_bounded_batches(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "marketing_automation_community.batch_size", 2
        )
        more_contacts = self.env["res.partner"].create(
            [
                {"name": f"Contact extra {index}", "email": f"extra{index}@example.com"}
                for index in range(2)
            ]
        )
        campaign = self._create_campaign(domain=self.domain)
        root = self._create_activity(campaign, "action")
        Trace = type(self.env["marketing.trace"])
        claim_origin = Trace._claim_due_traces
        claims = []

        def claim(model, activity, limit):
            traces = claim_origin(model, activity, limit)
            claims.append((activity, limit, traces))
            return traces

        with freeze_time(self.reference_now):
            campaign.action_start_campaign()
            with patch.object(Trace, "_claim_due_traces", autospec=True, side_effect=claim):
                self._run_cron()

        self.assertTraceStates(root.trace_ids, "processed")
        self.assertEqual(len(root.trace_ids), 5)
        self.assertEqual(set((self.contacts + more_contacts).mapped("ref")), {"engaged"})
        batches = [traces for _activity, _limit, traces in claims if traces]
        self.assertEqual({limit for _activity, limit, _traces in claims}, {2})
        self.assertEqual([len(traces) for traces in batches], [2, 2, 1])
        claimed = self.env["marketing.trace"].concat(*batches)
        self.assertEqual(len(set(claimed.ids)), 5, "each trace is claimed once")
        # claimed in the order they are due (here all at once: by id)
        self.assertEqual(claimed.ids, sorted(root.trace_ids.ids))

    def test_cron_triggers_itself(self):
        campaign = self._create_campaign(domain=self.domain)
        self._create_activity(campaign, "action", name="Now")
        self._create_activity(
            campaign, "action", name="In a day", interval_number=1, interval_type="days"
        )
        self._create_activity(
            campaign, "action", name="In a week", interval_number=1, interval_type="weeks"
        )
        # a stopped campaign due earlier does not wake the scheduler up
        stopped = self._create_campaign(domain=self.domain, name="Stopped")
        self._create_activity(stopped, "action", interval_number=2)
        now = self.reference_now
        with freeze_time(now) as frozen:
            with self.capture_triggers(CRON_XMLID) as capture:
                campaign.action_start_campaign()
            self.assertEqual(capture.records.mapped("call_at"), [now], "start wakes it up now")
            stopped.action_start_campaign()
            stopped.sync_participants()
            stopped.action_stop_campaign()

            with self.capture_triggers(CRON_XMLID) as capture:
                self._run_cron()
            self.assertEqual(capture.records.mapped("call_at"), [now + timedelta(days=1)])

            frozen.tick(timedelta(days=1))
            with self.capture_triggers(CRON_XMLID) as capture:
                self._run_cron()
            self.assertEqual(capture.records.mapped("call_at"), [now + timedelta(weeks=1)])

            frozen.tick(timedelta(weeks=1))
            with self.capture_triggers(CRON_XMLID) as capture:
                self._run_cron()
            self.assertFalse(capture.records, "nothing left to wait for")
        self.assertEqual(campaign.completed_participant_count, len(self.contacts))

    def test_cron_triggered_by_event(self):
        campaign = self._create_campaign()
        root = self._create_activity(campaign, "email")
        on_open = self._create_activity(
            campaign, "action", parent=root, trigger_type="mail_open", interval_number=3
        )
        now = self.reference_now
        with freeze_time(now) as frozen, self.mock_mail_gateway():
            campaign.action_start_campaign()
            with self.capture_triggers(CRON_XMLID) as capture:
                self._run_cron()
            # the child waits for the open: nothing to wake up for
            self.assertFalse(capture.records)
            self.assertTraceStates(on_open.trace_ids, "scheduled")
            self.assertEqual(set(on_open.trace_ids.mapped("schedule_date")), {False})
            self._send_queued_mails()

            frozen.tick(timedelta(hours=1))
            opened = self._traces(root, self.contacts[0])
            with self.capture_triggers(CRON_XMLID) as capture:
                self._mailing_trace(opened).set_opened()
            child = self._traces(on_open, self.contacts[0])
            self.assertEqual(child.schedule_date, now + timedelta(hours=4))
            self.assertEqual(capture.records.mapped("call_at"), [now + timedelta(hours=4)])

            frozen.tick(timedelta(hours=3))
            self._run_cron()
        self.assertTraceStates(child, "processed")
        self.assertEqual(self.contacts[0].ref, "engaged")
        self.assertTraceStates(on_open.trace_ids - child, "scheduled")

    def test_cron_runs_zero_delay_children_at_once(self):
        campaign = self._create_campaign()
        root = self._create_activity(campaign, "email")
        child = self._create_activity(campaign, "action", parent=root, interval_number=0)
        grandchild = self._create_activity(campaign, "sms", parent=child, interval_number=0)
        later = self._create_activity(campaign, "action", parent=root, interval_number=1)
        with (
            freeze_time(self.reference_now),
            self.mock_mail_gateway(),
            self.mockSMSGateway(),
            self.capture_triggers(CRON_XMLID) as capture,
        ):
            campaign.action_start_campaign()
            self._run_cron()
        self.assertTraceStates(root.trace_ids, "processed")
        self.assertEqual(
            len(self._new_mails.filtered(lambda m: m.mailing_id == self.mailing_email)), 3
        )
        self.assertTraceStates(child.trace_ids, "processed")
        self.assertEqual(set(self.contacts.mapped("ref")), {"engaged"})
        self.assertTraceStates(grandchild.trace_ids, "processed")
        self.assertEqual(len(grandchild.trace_ids.mailing_trace_ids), 3)
        self.assertTraceStates(later.trace_ids, "scheduled")
        self.assertEqual(
            capture.records.mapped("call_at"),
            [self.reference_now, self.reference_now + timedelta(hours=1)],
            "woken up by the start, then for the 1-hour children",
        )

    @mute_logger("odoo.addons.marketing_automation_community.models.marketing_trace")
    def test_cron_error_in_one_trace(self):
        self.server_action.code = (
            "record.write({'ref': 'engaged'})\n"
            "if record.name == 'Contact 1':\n"
            "    raise UserError('Contact 1 refuses to be engaged')\n"
        )
        campaign = self._create_campaign()
        root = self._create_activity(campaign, "action")
        child = self._create_activity(
            campaign, "action", parent=root, name="Child", interval_number=1
        )
        with freeze_time(self.reference_now):
            campaign.action_start_campaign()
            self._run_cron()  # does not raise
        failed = self._traces(root, self.contacts[1])
        self.assertTraceStates(failed, "error", "Contact 1 refuses to be engaged")
        self.assertTraceStates(self._traces(root, self.contacts[0] + self.contacts[2]), "processed")
        # the failing record's changes were rolled back, the others kept
        self.assertEqual(self.contacts.mapped("ref"), ["engaged", False, "engaged"])
        # the branch ends at the error; the others go on
        self.assertEqual(
            sorted(child.trace_ids.mapped("res_id")),
            sorted((self.contacts[0] + self.contacts[2]).ids),
        )
        self.assertEqual(failed.participant_id.state, "completed")

    def test_claim_due_traces_only(self):
        campaign = self._create_campaign()
        root = self._create_activity(campaign, "email")
        later = self._create_activity(campaign, "action", interval_number=2)
        waiting = self._create_activity(campaign, "action", parent=root, trigger_type="mail_open")
        Trace = self.env["marketing.trace"]
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            campaign.action_start_campaign()
            campaign.sync_participants()
            self.env["marketing.campaign.test"].create(
                {"campaign_id": campaign.id, "res_id": self.contacts[0].id}
            ).action_launch_test()
            test_traces = root.trace_ids.filtered("is_test")
            self.assertEqual(len(test_traces), 1)
            self.assertEqual(Trace._claim_due_traces(root, 10), self._traces(root))
            self.assertFalse(Trace._claim_due_traces(later, 10), "not due yet")
            campaign.execute_activities()
            self.assertFalse(Trace._claim_due_traces(root, 10), "already processed")
            self.assertEqual(len(self._traces(waiting)), 3)
            self.assertFalse(Trace._claim_due_traces(waiting, 10), "waiting for an event")
        self.assertTraceStates(test_traces, "scheduled")

    def test_cron_queues_sms_even_when_forced(self):
        self.mailing_sms.sms_force_send = True
        campaign = self._create_campaign(domain=self.domain)
        root = self._create_activity(campaign, "sms")
        with freeze_time(self.reference_now), self.mockSMSGateway():
            campaign.action_start_campaign()
            self._run_cron()
        self.assertTraceStates(root.trace_ids, "processed")
        self.assertEqual(set(root.trace_ids.mailing_trace_ids.sms_id.mapped("state")), {"outgoing"})
        self.assertFalse(self._sms, "sent by the SMS queue, not inside the batch")

    def test_cron_call_bounded_by_max_batches(self):
        set_param = self.env["ir.config_parameter"].sudo().set_param
        set_param("marketing_automation_community.batch_size", 2)
        set_param("marketing_automation_community.cron_max_batches", 1)
        campaign = self._create_campaign(domain=self.domain)
        root = self._create_activity(campaign, "action")
        with freeze_time(self.reference_now):
            campaign.action_start_campaign()
            self._run_cron()
            self.assertEqual(len(root.trace_ids.filtered(lambda t: t.state == "processed")), 2)
            self._run_cron()
            self.assertEqual(len(root.trace_ids.filtered(lambda t: t.state == "processed")), 3)
            # a direct call (integrators, tests) is not bounded
            self.assertEqual(campaign.execute_activities(), 0)

    def test_cron_wrong_settings_use_defaults(self):
        """A wrong batch size or batch count in the system parameters falls
        back to the defaults (200 traces, 10 batches) instead of stopping the
        scheduler."""
        set_param = self.env["ir.config_parameter"].sudo().set_param
        set_param("marketing_automation_community.batch_size", "two hundred")
        set_param("marketing_automation_community.cron_max_batches", "0")
        campaign = self._create_campaign(domain=self.domain)
        root = self._create_activity(campaign, "action")
        Trace = self.env["marketing.trace"]
        with mute_logger("odoo.addons.marketing_automation_community.models.marketing_trace"):
            self.assertEqual(Trace._get_scheduler_setting("batch_size", 200), 200)
            self.assertEqual(Trace._get_scheduler_setting("cron_max_batches", 10), 10)
            with freeze_time(self.reference_now):
                campaign.action_start_campaign()
                self._run_cron()
        self.assertTraceStates(root.trace_ids, "processed")
        self.assertEqual(len(root.trace_ids), 3)


@tagged("marketing_automation", "post_install", "-at_install")
class TestCronWorkers(CommittedDataMixin, TransactionCase):
    """Several workers claiming work at once, step by step (the scheduler run
    by threads, and a killed worker, are in ``test_concurrency``), on
    committed data (see ``CommittedDataMixin``). This class writes nothing in
    the test's own transaction: the mail test set-up renames the company
    there, which would block the workers' inserts referencing it until the
    test ends."""

    reference_now = MarketingAutomationCommon.reference_now

    def _commit_campaign(
        self, activity_type, count, code="record.write({'ref': 'engaged'})", settings=None
    ):
        """Commit a running campaign with ``count`` traces of one root
        ``activity_type`` activity due now (an action runs ``code``), and the
        scheduler's system parameters ``settings``; return their ids."""
        data = {}
        with self._committing_env(data) as env:
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
            env_b["marketing.campaign"].browse(data["campaign_id"])._run_scheduler()
            env_b.cr.commit()
            self._assert_ran_once(data)  # B ran them all

            campaign_a = env_a["marketing.campaign"].browse(data["campaign_id"])
            campaign_a._run_scheduler()
            env_a.cr.commit()
            self.assertFalse(campaign_a.scheduler_error)
            self._assert_ran_once(data)

    def test_enrolment_claimed_by_one_worker(self):
        """While A enrols a campaign (it holds the campaign's row), B skips its
        enrolment without waiting and without writing the campaign, and still
        runs its due traces; A's next run enrols the new record."""
        with freeze_time(self.reference_now):
            data = self._commit_campaign("action", 4, code=COUNTING_ACTION)
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
                newcomer = env["res.partner"].create({"name": "Worker new"})
                data["partner_ids"].append(newcomer.id)
                campaign = env["marketing.campaign"].browse(data["campaign_id"])
                campaign.domain = repr([("id", "in", data["partner_ids"])])
                last_sync_date = campaign.last_sync_date
            env_a, env_b = self._worker_env(), self._worker_env()
            self.assertTrue(
                env_a["marketing.campaign"].browse(data["campaign_id"])._claim_for_enrolment()
            )

            campaign_b = env_b["marketing.campaign"].browse(data["campaign_id"])
            campaign_b._run_scheduler()
            env_b.cr.commit()
            env_a.cr.rollback()  # A releases the campaign
            check = self._worker_env()
            campaign = check["marketing.campaign"].browse(data["campaign_id"])
            self.assertEqual(campaign.last_sync_date, last_sync_date, "B did not write the row")
            self.assertEqual(len(campaign.participant_ids), 4, "B did not enrol")
            self.assertEqual(set(campaign.participant_ids.trace_ids.mapped("state")), {"processed"})
            check.cr.rollback()

            worker = self._worker_env()
            worker["marketing.campaign"].browse(data["campaign_id"])._run_scheduler()
            worker.cr.commit()
            self._assert_ran_once(data, count=5)

    def test_progress_reported_to_cron_runner(self):
        with freeze_time(self.reference_now):
            data = self._commit_campaign("action", 5, settings={"batch_size": 2})
            worker = self._worker_env()
            cron = worker.ref(CRON_XMLID)
            progress = worker["ir.cron.progress"].create({"cron_id": cron.id})
            worker = worker(context={"ir_cron_progress_id": progress.id})
            campaign = worker["marketing.campaign"].browse(data["campaign_id"])
            self.addCleanup(self._remove_progress, progress.id)

            handled = worker["marketing.trace"]._execute_due_traces(
                campaign, auto_commit=True, max_batches=2
            )
            self.assertEqual(handled, 4)
            self.assertEqual((progress.done, progress.remaining), (4, 1))
            worker["marketing.trace"]._execute_due_traces(campaign, auto_commit=True)
            self.assertEqual((progress.done, progress.remaining), (1, 0))

    def _remove_progress(self, progress_id):
        with self.registry.cursor() as cr:
            api.Environment(cr, SUPERUSER_ID, {})["ir.cron.progress"].browse(progress_id).unlink()
