from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.base.tests.test_ir_cron import CronMixinCase

from .common import CRON_XMLID, SECOND_CRON_XMLID, MarketingAutomationCommon


@tagged("marketing_automation", "post_install", "-at_install")
class TestScheduler(MarketingAutomationCommon, CronMixinCase):
    """The scheduler's loop (marketing.scheduler): what it enrols and runs, in
    which batches, when it wakes up, and its errors. Several workers are in
    ``test_scheduler_workers``."""

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
        """One call of the job enrols and executes the running campaigns."""
        campaign = self._create_campaign(domain=self.domain)
        self._create_activity(campaign, "action")
        campaign.action_start_campaign()
        self._run_cron()
        self.assertEqual(len(campaign.participant_ids), len(self.contacts))
        self.assertTraceStates(campaign.participant_ids.trace_ids, "processed")

    def test_every_active_scheduler_job_woken(self):
        """The jobs are found by XML id, whatever their code: the second one,
        shipped inactive, is woken once an administrator activates it. A copy
        an administrator makes runs at its interval, never woken earlier."""
        Scheduler = self.env["marketing.scheduler"]
        # scheduled actions are configured by administrators
        second = self.env.ref(SECOND_CRON_XMLID).sudo()
        with (
            self.capture_triggers(CRON_XMLID) as main,
            self.capture_triggers(SECOND_CRON_XMLID) as other,
        ):
            Scheduler._wake()
        self.assertEqual((len(main.records), len(other.records)), (1, 0))
        second.write({"active": True, "code": "model._cron_process_campaigns()  # worker 2"})
        copy = second.copy()
        with (
            self.capture_triggers(CRON_XMLID) as main,
            self.capture_triggers(SECOND_CRON_XMLID) as other,
            self.capture_triggers(copy.id) as copied,
        ):
            Scheduler._wake(self.reference_now)
        self.assertEqual((len(main.records), len(other.records), len(copied.records)), (1, 1, 0))
        self.assertEqual(other.records.call_at, self.reference_now)

    # ------------------------------------------------------------
    # ENROLMENT: once per trigger
    # ------------------------------------------------------------

    def test_enrol_once_per_cron_trigger(self):
        """The calls the cron runner repeats while traces remain do not enrol
        again: a campaign is enrolled when its last enrolment is older than
        ``enrolment_interval`` minutes (10 by default), at once after Start
        and Update, and at every call of a direct ``sync_participants()``."""
        campaign = self._create_campaign(domain=self.domain, name="Once")
        root = self._create_activity(campaign, "action", interval_number=1)
        now = self.reference_now
        with freeze_time(now) as frozen:
            campaign.action_start_campaign()
            self._run_cron()
            self.assertEqual(len(campaign.participant_ids), 3)
            self.assertEqual(campaign.last_sync_date, now)
            newcomer = self.env["res.partner"].create({"name": "Contact newcomer"})

            # a repeated call, minutes later: no enrolment
            frozen.tick(timedelta(minutes=9))
            self._run_cron()
            self.assertFalse(self._participant(campaign, newcomer))
            self.assertEqual(campaign.last_sync_date, now)
            # the next run of the job enrols
            frozen.tick(timedelta(minutes=6))
            self._run_cron()
            self.assertTrue(self._participant(campaign, newcomer))
            self.assertEqual(campaign.last_sync_date, now + timedelta(minutes=15))

            # Update asks for an enrolment at the next call, however recent the last
            late = self.env["res.partner"].create({"name": "Contact late"})
            frozen.tick(timedelta(minutes=1))
            campaign.action_update_participants()
            self._run_cron()
            self.assertTrue(self._participant(campaign, late))

            # so does a restart
            later = self.env["res.partner"].create({"name": "Contact later"})
            campaign.action_stop_campaign()
            campaign.action_start_campaign()
            self._run_cron()
            self.assertTrue(self._participant(campaign, later))

            # the interval is a system parameter
            self.env["ir.config_parameter"].sudo().set_param(
                "marketing_automation_community.enrolment_interval", 30
            )
            last = self.env["res.partner"].create({"name": "Contact last"})
            frozen.tick(timedelta(minutes=15))
            self._run_cron()
            self.assertFalse(self._participant(campaign, last))
            frozen.tick(timedelta(minutes=15))
            self._run_cron()
            self.assertTrue(self._participant(campaign, last))
        self.assertEqual(len(root.trace_ids), 7, "one root trace per participant")

    def test_scheduler_quiet_with_default_settings(self):
        campaign = self._create_campaign(name="Quiet")
        self._create_activity(campaign, "action")
        campaign.action_start_campaign()
        self.assertFalse(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("marketing_automation_community.batch_size")
        )
        with self.assertNoLogs("odoo.addons.marketing_automation_community", "WARNING"):
            self._run_cron()
        self.assertEqual(len(campaign.participant_ids), 3)

    # ------------------------------------------------------------
    # EXECUTION
    # ------------------------------------------------------------

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
        Scheduler = self.env["marketing.scheduler"]
        with mute_logger("odoo.addons.marketing_automation_community.models.marketing_scheduler"):
            self.assertEqual(Scheduler._get_setting("batch_size"), 200)
            self.assertEqual(Scheduler._get_setting("cron_max_batches"), 10)
            with freeze_time(self.reference_now):
                campaign.action_start_campaign()
                self._run_cron()
        self.assertTraceStates(root.trace_ids, "processed")
        self.assertEqual(len(root.trace_ids), 3)
