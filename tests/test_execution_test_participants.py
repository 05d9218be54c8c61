from datetime import timedelta

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import Form, tagged, users
from odoo.tools import email_normalize

from .common import MarketingAutomationCommon

CRON_XMLID = "marketing_automation_community.ir_cron_marketing_automation"


@tagged("marketing_automation", "post_install", "-at_install")
class TestCampaignTest(MarketingAutomationCommon):
    """*Launch a Test*: one test participant per launch, whose traces only run
    when the tester presses Run, at once and whatever their trigger."""

    def _launch_test(self, campaign, record):
        """Launch a test of ``campaign`` on ``record`` as the campaign form's
        button does; return the test participant."""
        wizard_form = Form(
            self.env["marketing.campaign.test"].with_context(default_campaign_id=campaign.id)
        )
        wizard_form.resource_ref = f"{record._name},{record.id}"
        action = wizard_form.save().action_launch_test()
        return self.env["marketing.participant"].browse(action["res_id"])

    def _trace(self, participant, activity):
        return participant.trace_ids.filtered(lambda t: t.activity_id == activity)

    def _sent_to(self, record):
        """The emails sent through the mocked gateway to ``record``'s address."""
        return [
            mail
            for mail in self._mails
            if email_normalize(record.email) in map(email_normalize, mail["email_to"])
        ]

    # ------------------------------------------------------------
    # LAUNCH
    # ------------------------------------------------------------

    @users("user_marketing_automation")
    def test_launch_test_on_draft_campaign(self):
        campaign = self._create_campaign().with_env(self.env)
        root_email = self._create_activity(campaign, "email", interval_number=2)
        root_action = self._create_activity(
            campaign, "action", interval_number=1, interval_type="days"
        )
        self._create_activity(campaign, "action", parent=root_email)
        contact = self.contacts[0].with_env(self.env)
        wizard_form = Form(
            self.env["marketing.campaign.test"].with_context(default_campaign_id=campaign.id)
        )
        self.assertEqual(wizard_form.model_name, "res.partner")
        wizard_form.resource_ref = f"res.partner,{contact.id}"
        wizard = wizard_form.save()
        self.assertEqual(wizard.res_id, contact.id)

        with freeze_time(self.reference_now), self.mock_mail_gateway():
            action = wizard.action_launch_test()
        participant = self.env["marketing.participant"].browse(action["res_id"])
        self.assertEqual(
            {key: action[key] for key in ("type", "res_model", "view_mode")},
            {
                "type": "ir.actions.act_window",
                "res_model": "marketing.participant",
                "view_mode": "form",
            },
        )
        self.assertEqual(campaign.participant_ids, participant)
        self.assertTrue(participant.is_test)
        self.assertEqual(participant.resource_ref, contact)
        self.assertEqual(participant.state, "running")
        self.assertEqual(participant.start_date, self.reference_now)
        # the root activities only, planned as for a real participant, nothing run
        self.assertEqual(participant.trace_ids.activity_id, root_email | root_action)
        self.assertTraceStates(participant.trace_ids, "scheduled")
        self.assertTrue(all(participant.trace_ids.mapped("is_test")))
        self.assertEqual(
            self._trace(participant, root_email).schedule_date,
            self.reference_now + timedelta(hours=2),
        )
        self.assertEqual(
            self._trace(participant, root_action).schedule_date,
            self.reference_now + timedelta(days=1),
        )
        self.assertFalse(self._new_mails)
        self.assertFalse(contact.ref)
        # the campaign was not started by its test; the Tests button finds it
        self.assertEqual(campaign.state, "draft")
        self.assertEqual(campaign.test_participant_count, 1)
        self.assertEqual(campaign.total_participant_count, 0)
        tests_action = campaign.action_view_test_participants()
        self.assertEqual(
            self.env["marketing.participant"].search(tests_action["domain"]), participant
        )
        participants_action = campaign.action_view_participants()
        self.assertFalse(self.env["marketing.participant"].search(participants_action["domain"]))

    def test_launch_test_on_running_campaign_shares_record(self):
        campaign = self._create_campaign()
        root = self._create_activity(campaign, "action", interval_number=1, interval_type="days")
        contact = self.contacts[0]
        with freeze_time(self.reference_now):
            campaign.action_start_campaign()
            campaign.sync_participants()
            real = campaign.participant_ids
            first_test = self._launch_test(campaign, contact)
            second_test = self._launch_test(campaign, contact)
            # the unique indexes on real participants let tests through
            self.env.flush_all()
            first_test.trace_ids.action_execute()
        self.assertEqual(len(real), len(self.contacts))
        self.assertFalse(any(real.mapped("is_test")))
        self.assertEqual(campaign.participant_ids, real | first_test | second_test)
        self.assertEqual((first_test | second_test).mapped("res_id"), [contact.id] * 2)
        self.assertEqual(len(first_test | second_test), 2, "two tests, two test participants")
        self.assertEqual(campaign.test_participant_count, 2)
        self.assertEqual(campaign.running_participant_count, len(self.contacts))
        # each test has its own traces; running one leaves the real one alone
        self.assertTraceStates(self._trace(first_test, root), "processed")
        self.assertTraceStates(self._trace(second_test, root), "scheduled")
        self.assertTraceStates(root.trace_ids.filtered(lambda t: not t.is_test), "scheduled")
        self.assertEqual(len(root.trace_ids), len(self.contacts) + 2)
        self.assertEqual(contact.ref, "engaged")

    def test_launch_test_errors(self):
        campaign = self._create_campaign()
        Wizard = self.env["marketing.campaign.test"].with_context(default_campaign_id=campaign.id)
        without_activity = Form(Wizard)
        without_activity.resource_ref = f"res.partner,{self.contacts[0].id}"
        with self.assertRaisesRegex(UserError, "at least one activity"):
            without_activity.save().action_launch_test()

        self._create_activity(campaign, "action")
        with self.assertRaisesRegex(UserError, "Choose the record"):
            Form(Wizard).save().action_launch_test()

        deleted = self.env["res.partner"].create({"name": "Deleted", "email": "gone@example.com"})
        with_deleted = Form(Wizard)
        with_deleted.resource_ref = f"res.partner,{deleted.id}"
        wizard = with_deleted.save()
        deleted.unlink()
        with self.assertRaisesRegex(UserError, "no longer exists"):
            wizard.action_launch_test()
        self.assertFalse(campaign.participant_ids)

    # ------------------------------------------------------------
    # RUN
    # ------------------------------------------------------------

    def test_run_ignores_delay(self):
        campaign = self._create_campaign()
        root = self._create_activity(campaign, "action", interval_number=2, interval_type="days")
        child = self._create_activity(
            campaign, "sms", parent=root, interval_number=1, interval_type="weeks"
        )
        contact = self.contacts[0]
        with freeze_time(self.reference_now) as frozen, self.mockSMSGateway():
            participant = self._launch_test(campaign, contact)
            frozen.tick(timedelta(minutes=5))
            run_at = self.reference_now + timedelta(minutes=5)
            self._trace(participant, root).action_execute()
            root_trace = self._trace(participant, root)
            self.assertTraceStates(root_trace, "processed")
            self.assertEqual(root_trace.schedule_date, run_at)
            self.assertEqual(contact.ref, "engaged")
            # the child appears, planned after its own delay, and runs at once too
            child_trace = self._trace(participant, child)
            self.assertEqual(child_trace.parent_id, root_trace)
            self.assertEqual(child_trace.schedule_date, run_at + timedelta(weeks=1))
            child_trace.action_execute()
        self.assertTraceStates(child_trace, "processed")
        self.assertEqual(child_trace.schedule_date, run_at)
        self.assertEqual(len(self._mailing_trace(child_trace).sms_id), 1)
        self.assertEqual(participant.state, "completed")

    def test_run_event_triggered_children(self):
        campaign = self._create_campaign()
        root = self._create_activity(campaign, "email")
        on_open = self._create_activity(
            campaign, "action", parent=root, trigger_type="mail_open", interval_number=2
        )
        not_opened = self._create_activity(
            campaign,
            "email",
            parent=root,
            trigger_type="mail_not_open",
            interval_number=1,
            interval_type="days",
            mass_mailing_id=self.mailing_email_followup.id,
        )
        on_click = self._create_activity(
            campaign, "action", parent=root, trigger_type="mail_click", interval_number=1
        )
        contact = self.contacts[0]
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            participant = self._launch_test(campaign, contact)
            self._trace(participant, root).action_execute()
            # positive triggers wait for their event, negative ones for their delay
            self.assertFalse(self._trace(participant, on_open).schedule_date)
            self.assertFalse(self._trace(participant, on_click).schedule_date)
            self.assertEqual(
                self._trace(participant, not_opened).schedule_date,
                self.reference_now + timedelta(days=1),
            )
            # Run on the "not opened" branch: nothing was opened, it sends
            self._trace(participant, not_opened).action_execute()
            other = self._launch_test(campaign, self.contacts[1])
            self._trace(other, root).action_execute()
            # Run on the "opened" branch simulates the open: "not opened" is impossible
            self._trace(other, on_open).action_execute()
        self.assertTraceStates(self._trace(participant, not_opened), "processed")
        self.assertEqual(
            self._mailing_trace(self._trace(participant, not_opened)).mass_mailing_id,
            self.mailing_email_followup,
        )
        self.assertTraceStates(self._trace(participant, on_open), "scheduled")
        self.assertTraceStates(self._trace(other, on_open), "processed")
        self.assertEqual(self._trace(other, on_open).schedule_date, self.reference_now)
        self.assertEqual(self.contacts[1].ref, "engaged")
        self.assertTraceStates(
            self._trace(other, not_opened), "canceled", "the parent message was opened"
        )
        self.assertTraceStates(self._trace(other, on_click), "scheduled")
        self.assertEqual(other.state, "running")
        self.assertEqual(participant.state, "running")

    def test_run_reply_cancels_bounce(self):
        """Run on "replied" simulates the reply: the message arrived, so its
        "bounced" child is canceled and can no longer be run."""
        campaign = self._create_campaign()
        root = self._create_activity(campaign, "email")
        on_reply = self._create_activity(campaign, "action", parent=root, trigger_type="mail_reply")
        on_bounce = self._create_activity(
            campaign, "action", parent=root, trigger_type="mail_bounce"
        )
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            participant = self._launch_test(campaign, self.contacts[0])
            self._trace(participant, root).action_execute()
            self._trace(participant, on_reply).action_execute()
            bounced = self._trace(participant, on_bounce)
            self.assertTraceStates(bounced, "canceled", "the parent message was replied to")
            with self.assertRaisesRegex(UserError, "can no longer run"):
                bounced.action_execute()
        self.assertEqual(participant.state, "completed")

    @users("user_marketing_automation")
    def test_run_email_sends_every_time(self):
        campaign = self._create_campaign().with_env(self.env)
        root = self._create_activity(campaign, "email")
        contact = self.contacts[0]
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            first = self._launch_test(campaign, contact)
            self._trace(first, root).action_execute()
            self._send_queued_mails()
            self.assertSentEmail(self.mailing_email.email_from, [contact], subject="Welcome")
            self.assertEqual(len(self._sent_to(contact)), 1)
            # testing again sends again: tests are not deduplicated
            second = self._launch_test(campaign, contact)
            self._trace(second, root).action_execute()
            self._send_queued_mails()
        self.assertEqual(len(self._sent_to(contact)), 2)
        welcome_mails = [mail for mail in self._mails if mail["subject"] == "Welcome"]
        self.assertEqual(len(welcome_mails), 2, "only the tested record receives the test")
        for participant in first | second:
            trace = self._trace(participant, root)
            self.assertTraceStates(trace, "processed")
            self.assertEqual(self._mailing_trace(trace).trace_status, "sent")
            self.assertEqual(self._mailing_trace(trace).res_id, contact.id)

    # ------------------------------------------------------------
    # SCHEDULER
    # ------------------------------------------------------------

    def test_scheduler_leaves_tests_alone(self):
        campaign = self._create_campaign()
        root = self._create_activity(campaign, "email")
        on_open = self._create_activity(campaign, "action", parent=root, trigger_type="mail_open")
        cron = self.env.ref(CRON_XMLID)
        tested = self.contacts[0]
        with freeze_time(self.reference_now) as frozen, self.mock_mail_gateway():
            participant = self._launch_test(campaign, tested)
            campaign.action_start_campaign()
            campaign.sync_participants()
            campaign.execute_activities()
            cron.method_direct_trigger()
            # the records were enrolled and run, the test waits for the tester
            self.assertEqual(campaign.participant_ids.filtered("is_test"), participant)
            self.assertEqual(campaign.running_participant_count, len(self.contacts))
            self.assertTraceStates(self._traces(root), "processed")
            test_root = self._trace(participant, root)
            self.assertTraceStates(test_root, "scheduled")
            self.assertFalse(test_root.mailing_trace_ids)

            # the tester really opens the test mail: the child is due, yet the
            # scheduler does not run it
            test_root.action_execute()
            self._send_queued_mails()
            self._mailing_trace(test_root).set_opened()
            test_child = self._trace(participant, on_open)
            self.assertEqual(test_child.schedule_date, self.reference_now)
            frozen.tick(timedelta(hours=1))
            campaign.sync_participants()
            campaign.execute_activities()
            cron.method_direct_trigger()
        self.assertTraceStates(test_child, "scheduled")
        self.assertFalse(tested.ref)
        self.assertEqual(campaign.test_participant_count, 1)
        self.assertEqual(len(self._traces(on_open)), len(self.contacts))

    # ------------------------------------------------------------
    # COMPLETION AND STOP
    # ------------------------------------------------------------

    def test_completed_when_all_traces_done(self):
        campaign = self._create_campaign()
        root = self._create_activity(campaign, "email")
        then = self._create_activity(campaign, "action", parent=root, interval_number=1)
        on_reply = self._create_activity(campaign, "action", parent=root, trigger_type="mail_reply")
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            participant = self._launch_test(campaign, self.contacts[0])
            self._trace(participant, root).action_execute()
            self.assertEqual(participant.state, "running")
            self._trace(participant, then).action_execute()
            # the reply it may still get keeps the test running
            self.assertEqual(participant.state, "running")
            self._trace(participant, on_reply).action_execute()
        self.assertTraceStates(participant.trace_ids, "processed")
        self.assertEqual(participant.state, "completed")

    def test_stop_cancels_pending_traces(self):
        campaign = self._create_campaign()
        root = self._create_activity(campaign, "email")
        on_open = self._create_activity(campaign, "action", parent=root, trigger_type="mail_open")
        later = self._create_activity(campaign, "action", interval_number=2, interval_type="days")
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            participant = self._launch_test(campaign, self.contacts[0])
            self._trace(participant, root).action_execute()
            participant.action_set_completed()
        self.assertEqual(participant.state, "completed")
        self.assertTraceStates(self._trace(participant, root), "processed")
        pending = self._trace(participant, on_open) | self._trace(participant, later)
        self.assertTraceStates(pending, "canceled")
        with self.assertRaises(UserError):
            pending.action_execute()
        self.assertTraceStates(pending, "canceled")
        self.assertFalse(self.contacts[0].ref)

    def test_run_refused_says_why(self):
        """A Run pressed on a screen older than the trace (its parent's email
        failed since, or the test was stopped) says what became of it."""
        campaign = self._create_campaign()
        root = self._create_activity(campaign, "email")
        later = self._create_activity(campaign, "action", parent=root, interval_number=1)
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            participant = self._launch_test(campaign, self.contacts[0])
            self._trace(participant, root).action_execute()
            participant.action_set_completed()
        pending = self._trace(participant, later)
        self.assertTraceStates(pending, "canceled")
        with self.assertRaisesRegex(UserError, f"{later.name} can no longer run: it is Canceled"):
            pending.action_execute()
