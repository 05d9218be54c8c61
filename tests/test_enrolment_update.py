from datetime import timedelta

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import MarketingAutomationCommon


@tagged("marketing_automation", "post_install", "-at_install")
class TestCampaignFlow(MarketingAutomationCommon):
    """Campaign life cycle: start, stop, restart, workflow changes and updates."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cron = cls.env.ref("marketing_automation_community.ir_cron_marketing_automation")
        # the test contacts and the ones created later on match the filter
        cls.domain = [("name", "=like", "Contact %")]

    def _cron_triggers(self):
        return self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)])

    def test_start_stop_transitions(self):
        campaign = self._create_campaign(domain=self.domain)
        self.assertEqual(campaign.state, "draft")
        with self.assertRaises(UserError):
            campaign.action_start_campaign()
        self.assertEqual(campaign.state, "draft")

        self._create_activity(campaign, "action", interval_number=1, interval_type="days")
        with freeze_time(self.reference_now):
            triggers = self._cron_triggers()
            campaign.action_start_campaign()
        self.assertEqual(campaign.state, "running")
        new_triggers = self._cron_triggers() - triggers
        self.assertEqual(len(new_triggers), 1, "starting wakes the scheduler up")
        self.assertEqual(new_triggers.call_at, self.reference_now)
        campaign.action_stop_campaign()
        self.assertEqual(campaign.state, "stopped")
        campaign.action_start_campaign()
        self.assertEqual(campaign.state, "running")
        campaign.action_stop_campaign()
        self.assertEqual(campaign.state, "stopped")

        # several campaigns at once, one without activities: nothing starts
        empty = self._create_campaign(domain=self.domain, name="Empty")
        with self.assertRaises(UserError):
            (campaign + empty).action_start_campaign()
        self.assertEqual(campaign.state, "stopped")
        self.assertEqual(empty.state, "draft")

    def test_stop_halts_enrolment_and_execution(self):
        campaign = self._create_campaign(domain=self.domain)
        activity = self._create_activity(
            campaign, "action", interval_number=1, interval_type="days"
        )
        start = self.reference_now
        with freeze_time(start) as frozen:
            campaign.action_start_campaign()
            self._run_cron()
            self.assertEqual(campaign.running_participant_count, len(self.contacts))
            traces = self._traces(activity)
            self.assertEqual(len(traces), len(self.contacts))
            self.assertEqual(set(traces.mapped("schedule_date")), {start + timedelta(days=1)})
            self.assertEqual(campaign.last_sync_date, start)

            frozen.tick(timedelta(hours=1))
            campaign.action_stop_campaign()
            frozen.tick(timedelta(days=2))
            newcomer = self.env["res.partner"].create(
                {"name": "Contact late", "email": "late@example.com"}
            )
            self._run_cron()
            # nothing ran, nobody entered
            self.assertEqual(set(traces.mapped("state")), {"scheduled"})
            self.assertFalse(self._participant(campaign, newcomer))
            self.assertEqual(campaign.last_sync_date, start)
            self.assertFalse(any(self.contacts.mapped("ref")))
            # executing the stopped campaign directly does not run it either
            campaign.execute_activities()
            self.assertEqual(set(traces.mapped("state")), {"scheduled"})

            restart = start + timedelta(days=2, hours=1)
            campaign.action_start_campaign()
            self._run_cron()
        # the late traces ran after the restart
        self.assertEqual(set(traces.mapped("state")), {"processed"})
        self.assertEqual(set(traces.mapped("schedule_date")), {restart})
        for contact in self.contacts:
            self.assertEqual(contact.ref, "engaged")
        # the newcomer entered at restart and waits for its own delay
        participant = self._participant(campaign, newcomer)
        self.assertEqual(participant.state, "running")
        self.assertEqual(participant.trace_ids.state, "scheduled")
        self.assertEqual(participant.trace_ids.schedule_date, restart + timedelta(days=1))
        self.assertFalse(newcomer.ref)
        self.assertEqual(campaign.last_sync_date, restart)
        self.assertEqual(campaign.completed_participant_count, len(self.contacts))
        self.assertEqual(campaign.running_participant_count, 1)

    def test_require_sync_flag(self):
        campaign = self._create_campaign(domain=self.domain)
        root = self._create_activity(campaign, "action")
        # no participant: workflow changes need no update
        child = self._create_activity(campaign, "action", parent=root)
        child.interval_number = 3
        child.unlink()
        self.assertFalse(campaign.require_sync)

        # test participants only: no update either
        with freeze_time(self.reference_now):
            self._launch_test(campaign, self.contacts[0])
        self.assertEqual(campaign.test_participant_count, 1)
        child = self._create_activity(campaign, "action", parent=root)
        child.interval_number = 3
        child.unlink()
        self.assertFalse(campaign.require_sync)

        # real participants: every change flags the campaign
        with freeze_time(self.reference_now):
            campaign.action_start_campaign()
            campaign.sync_participants()
        self.assertEqual(campaign.running_participant_count, len(self.contacts))
        self.assertFalse(campaign.require_sync)
        other = self._create_campaign(domain=self.domain, name="Other")
        other_root = self._create_activity(other, "action")

        child = self._create_activity(campaign, "action", parent=root)
        self.assertTrue(campaign.require_sync)
        campaign.action_update_participants()
        self.assertFalse(campaign.require_sync)

        child.write({"interval_number": 5})
        self.assertTrue(campaign.require_sync)
        campaign.action_update_participants()
        self.assertFalse(campaign.require_sync)

        child.unlink()
        self.assertTrue(campaign.require_sync)
        # the campaign without participants was never flagged
        other_root.interval_number = 2
        self.assertFalse(other.require_sync)

    def test_update_participants(self):
        campaign = self._create_campaign(domain=self.domain)
        root_now = self._create_activity(campaign, "action", name="At once")
        root_week = self._create_activity(
            campaign, "action", name="After a week", interval_number=1, interval_type="weeks"
        )
        contact_completed, contact_running, contact_deleted = self.contacts
        start = self.reference_now
        with freeze_time(start):
            campaign.action_start_campaign()
            campaign.sync_participants()
            campaign.execute_activities()
            test_participant = self._launch_test(campaign, contact_running)
        p_completed = self._participant(campaign, contact_completed)
        p_running = self._participant(campaign, contact_running)
        p_unlinked = self._participant(campaign, contact_deleted)
        p_completed.action_set_completed()
        contact_deleted.unlink()
        with freeze_time(start):
            campaign.sync_participants()
        self.assertEqual(p_completed.state, "completed")
        self.assertEqual(p_running.state, "running")
        self.assertEqual(p_unlinked.state, "unlinked")
        self.assertFalse(campaign.require_sync)
        old_traces = campaign.participant_ids.trace_ids
        old_values = old_traces.read(["state", "schedule_date", "state_msg", "parent_id"])

        update = start + timedelta(hours=3)
        with freeze_time(update):
            new_root = self._create_activity(
                campaign, "action", name="New root", interval_number=1, interval_type="days"
            )
            new_child = self._create_activity(
                campaign,
                "action",
                parent=root_now,
                name="New child of a processed parent",
                interval_number=2,
            )
            child_of_waiting = self._create_activity(
                campaign, "action", parent=root_week, name="New child of a scheduled parent"
            )
            self.assertTrue(campaign.require_sync)
            campaign.action_update_participants()
        self.assertFalse(campaign.require_sync)

        for participant in (p_completed, p_running):
            with self.subTest(participant=participant.resource_ref.name):
                self.assertEqual(participant.state, "running")
                root_trace = participant.trace_ids.filtered(lambda t: t.activity_id == new_root)
                self.assertEqual(len(root_trace), 1)
                self.assertEqual(root_trace.state, "scheduled")
                self.assertFalse(root_trace.parent_id)
                self.assertEqual(root_trace.schedule_date, update + timedelta(days=1))
                parent_trace = participant.trace_ids.filtered(lambda t: t.activity_id == root_now)
                child_trace = participant.trace_ids.filtered(lambda t: t.activity_id == new_child)
                self.assertEqual(len(child_trace), 1)
                self.assertEqual(child_trace.state, "scheduled")
                self.assertEqual(child_trace.parent_id, parent_trace)
                self.assertEqual(child_trace.schedule_date, update + timedelta(hours=2))
                self.assertNotIn(child_of_waiting, participant.trace_ids.activity_id)
        # unlinked and test participants are left alone
        self.assertEqual(p_unlinked.state, "unlinked")
        self.assertEqual(p_unlinked.trace_ids, old_traces & p_unlinked.trace_ids)
        self.assertEqual(len(test_participant.trace_ids), 2)
        self.assertFalse(test_participant.trace_ids & (new_root | new_child).trace_ids)
        # existing traces are untouched
        self.assertEqual(
            old_traces.read(["state", "schedule_date", "state_msg", "parent_id"]), old_values
        )
        new_traces = campaign.participant_ids.trace_ids - old_traces
        self.assertEqual(len(new_traces), 4)
        self.assertEqual(campaign.running_participant_count, 2)
        self.assertEqual(campaign.completed_participant_count, 0)

        # a second update creates nothing more
        with freeze_time(update + timedelta(hours=1)):
            campaign.action_update_participants()
        self.assertEqual(campaign.participant_ids.trace_ids - old_traces, new_traces)

        # the new traces run like the others
        with freeze_time(update + timedelta(hours=2)):
            campaign.execute_activities()
        self.assertTraceStates(self._traces(new_child), "processed")
        self.assertTraceStates(self._traces(new_root), "scheduled")

    def test_start_modified_stopped_campaign_updates_on_request(self):
        campaign = self._create_campaign(domain=self.domain)
        self._create_activity(campaign, "action", name="At once")
        with freeze_time(self.reference_now):
            campaign.action_start_campaign()
            campaign.sync_participants()
            campaign.action_stop_campaign()
            new_root = self._create_activity(campaign, "action", name="New root")
        self.assertTrue(campaign.require_sync)
        # a plain start keeps the update pending
        campaign.action_start_campaign()
        self.assertTrue(campaign.require_sync)
        self.assertFalse(new_root.trace_ids)
        campaign.action_stop_campaign()
        later = self.reference_now + timedelta(days=1)
        with freeze_time(later):
            campaign.with_context(
                marketing_automation_update_participants=True
            ).action_start_campaign()
        self.assertEqual(campaign.state, "running")
        self.assertFalse(campaign.require_sync)
        self.assertEqual(len(self._traces(new_root)), len(self.contacts))
        self.assertEqual(set(self._traces(new_root).mapped("schedule_date")), {later})

    def test_delete_activity_cascade(self):
        campaign = self._create_campaign(domain=self.domain)
        root = self._create_activity(campaign, "action", name="Root")
        child = self._create_activity(campaign, "action", parent=root, name="Child")
        grandchild = self._create_activity(campaign, "action", parent=child, name="Grandchild")
        sibling = self._create_activity(campaign, "action", name="Sibling root")
        with freeze_time(self.reference_now):
            campaign.action_start_campaign()
            campaign.sync_participants()
            campaign.execute_activities()
        self.assertTraceStates(self._traces(grandchild), "processed")
        traces = (root + child + grandchild).trace_ids
        self.assertEqual(len(traces), 3 * len(self.contacts))
        self.assertFalse(campaign.require_sync)

        root.unlink()
        self.assertFalse((root + child + grandchild).exists())
        self.assertFalse(traces.exists())
        self.assertEqual(campaign.marketing_activity_ids, sibling)
        self.assertEqual(len(self._traces(sibling)), len(self.contacts))
        self.assertTrue(campaign.require_sync)

    def test_update_participants_applies_past_events(self):
        """New event-triggered children of a message that was already opened are
        scheduled (or canceled) at update time instead of waiting forever."""
        campaign = self._create_campaign()
        mail = self._create_activity(campaign, "email")
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            campaign.action_start_campaign()
            campaign.sync_participants()
            campaign.execute_activities()
        opened_contact, other_contact = self.contacts[0], self.contacts[1]
        self._mailing_trace(self._traces(mail, opened_contact)).set_opened()

        later = self.reference_now + timedelta(hours=5)
        with freeze_time(later):
            on_open = self._create_activity(
                campaign, "action", parent=mail, trigger_type="mail_open", interval_number=1
            )
            not_open = self._create_activity(
                campaign, "action", parent=mail, trigger_type="mail_not_open", interval_number=2
            )
            campaign.action_update_participants()

        self.assertEqual(
            self._traces(on_open, opened_contact).schedule_date, later + timedelta(hours=1)
        )
        self.assertFalse(
            self._traces(on_open, other_contact).schedule_date, "still waits for its open"
        )
        self.assertTraceStates(self._traces(not_open, opened_contact), "canceled", "opened")
        self.assertTraceStates(self._traces(not_open, other_contact), "scheduled")
        self.assertEqual(
            self._traces(not_open, other_contact).schedule_date, later + timedelta(hours=2)
        )
