from datetime import timedelta

from freezegun import freeze_time

from odoo.tests import tagged

from .common import MarketingAutomationCommon
from .test_scheduling_triggers import TriggerCase


@tagged("marketing_automation", "post_install", "-at_install")
class TestExpiry(MarketingAutomationCommon):
    """A trace not run in time is canceled; a participant with nothing left
    scheduled is completed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the test contacts and the ones created later on match the filter
        cls.domain = [("name", "=like", "Contact %")]
        cls._act_as_marketing_user()

    def test_expired_traces_canceled(self):
        campaign = self._create_campaign()
        activity = self._create_activity(
            campaign,
            "action",
            interval_number=1,
            interval_type="days",
            validity_duration=True,
            validity_duration_number=2,
            validity_duration_type="hours",
        )
        child = self._create_activity(campaign, "action", parent=activity, name="Follow-up")
        planned = self.reference_now + timedelta(days=1)
        with freeze_time(self.reference_now) as frozen:
            self._start(campaign)
            late, in_time, just_in_time = self._traces(activity, self.contacts)
            # the engine's dates, moved as the scheduler would have
            late.sudo().schedule_date = planned - timedelta(hours=1)
            in_time.sudo().schedule_date = planned + timedelta(hours=1)
            just_in_time.sudo().schedule_date = planned
            frozen.tick(timedelta(days=1, hours=2))
            campaign.execute_activities()

        self.assertTraceStates(late, "canceled", "Expired")
        self.assertEqual(late.schedule_date, planned + timedelta(hours=2))
        self.assertFalse(late.child_ids)
        self.assertFalse(self.contacts[0].ref)
        self.assertTraceStates(in_time + just_in_time, "processed")
        self.assertEqual(self.contacts[1:].mapped("ref"), ["engaged", "engaged"])
        self.assertEqual(child.trace_ids.parent_id, in_time + just_in_time)

    def test_participant_completion(self):
        campaign = self._create_campaign()
        root = self._create_activity(campaign, "action")
        child = self._create_activity(
            campaign, "action", parent=root, interval_number=1, interval_type="days"
        )
        with freeze_time(self.reference_now) as frozen:
            self._start(campaign)
            participants = campaign.participant_ids
            campaign.execute_activities()
            self.assertTraceStates(self._traces(root), "processed")
            self.assertTraceStates(self._traces(child), "scheduled")
            self.assertEqual(set(participants.mapped("state")), {"running"})

            frozen.tick(timedelta(days=1))
            campaign.execute_activities()
        self.assertTraceStates(self._traces(child), "processed")
        self.assertEqual(set(participants.mapped("state")), {"completed"})
        self.assertEqual(campaign.completed_participant_count, len(self.contacts))

    def test_participant_completed_when_rejected(self):
        campaign = self._create_campaign(domain=self.domain)
        root = self._create_activity(campaign, "action")
        self._create_activity(campaign, "action", parent=root, interval_number=1)
        with freeze_time(self.reference_now):
            self._start(campaign)
            self.contacts[0].name = "Former contact"
            campaign.execute_activities()

        self.assertEqual(self._participant(campaign, self.contacts[0]).state, "completed")
        self.assertEqual(
            set(self._participant(campaign, record).state for record in self.contacts[1:]),
            {"running"},
        )


@tagged("marketing_automation", "post_install", "-at_install")
class TestWaitingExpiry(TriggerCase):
    """A child waiting for an event that does not come expires; the
    participant completes only once no child can run any more."""

    def test_waiting_child_expires(self):
        campaign = self._create_campaign(domain=[("id", "in", self.contacts[:2].ids)])
        email = self._create_activity(campaign, "email")
        child = self._create_activity(
            campaign,
            "action",
            parent=email,
            trigger_type="mail_open",
            validity_duration=True,
            validity_duration_number=1,
            validity_duration_type="days",
        )
        opener, quiet = self.contacts[:2]
        start = self.reference_now
        with freeze_time(start) as frozen, self.mock_mail_gateway():
            self._run_campaign(campaign)
            self._send_queued_mails()
            frozen.tick(timedelta(hours=12))
            self._open_email(opener)
            campaign.execute_activities()
            self.assertOutcome(self._traces(child, opener), "run")

            frozen.tick(timedelta(hours=12) - timedelta(minutes=1))
            campaign.execute_activities()
            self.assertOutcome(self._traces(child, quiet), "wait")
            self.assertEqual(self._participant(campaign, quiet).state, "running")

            frozen.tick(timedelta(minutes=2))
            campaign.execute_activities()
            self.assertOutcome(self._traces(child, quiet), "Expired")
            self.assertEqual(self._participant(campaign, quiet).state, "completed")

            # a later open does not bring it back
            frozen.tick(timedelta(hours=1))
            self._open_email(quiet)
            campaign.execute_activities()
            self.assertOutcome(self._traces(child, quiet), "Expired")
            self.assertEqual(len(self._traces(child)), 2)

    def test_event_after_expiry_before_scheduler_run(self):
        """An event that comes after the validity is too late, even when the
        scheduler did not expire the child in the meantime."""
        campaign = self._create_campaign(domain=[("id", "=", self.contacts[0].id)])
        email = self._create_activity(campaign, "email")
        child = self._create_activity(
            campaign,
            "action",
            parent=email,
            trigger_type="mail_click",
            validity_duration=True,
            validity_duration_number=2,
            validity_duration_type="hours",
        )
        contact = self.contacts[0]
        with freeze_time(self.reference_now) as frozen, self.mock_mail_gateway():
            self._run_campaign(campaign)
            self._send_queued_mails()
            frozen.tick(timedelta(hours=3))
            self._click_email_link(contact, "Our offer")
            campaign.execute_activities()

        self.assertOutcome(self._traces(child, contact), "Expired")
        self.assertFalse(contact.ref)
        self.assertEqual(self._participant(campaign, contact).state, "completed")

    def test_completion_waits_for_event_children(self):
        campaign = self._create_campaign(domain=[("id", "in", self.contacts[:3].ids)])
        email = self._create_activity(campaign, "email")
        child = self._create_activity(
            campaign, "action", parent=email, trigger_type="mail_click", interval_number=1
        )
        clicker, bouncer, canceled = self.contacts[:3]
        start = self.reference_now
        with freeze_time(start) as frozen, self.mock_mail_gateway():
            self._run_campaign(campaign)
            self._send_queued_mails()
            frozen.tick(timedelta(days=30))
            campaign.execute_activities()
            self.assertEqual(set(campaign.participant_ids.mapped("state")), {"running"})

            self._click_email_link(clicker, "Our offer")
            self._bounce_email(bouncer)
            self._traces(child, canceled).action_cancel()
            self.assertEqual(self._participant(campaign, clicker).state, "running")
            self.assertOutcome(self._traces(child, bouncer), "bounced")
            self.assertEqual(self._participant(campaign, bouncer).state, "completed")
            self.assertEqual(self._participant(campaign, canceled).state, "completed")

            frozen.tick(timedelta(hours=1))
            campaign.execute_activities()
            self.assertOutcome(self._traces(child, clicker), "run")
            self.assertEqual(self._participant(campaign, clicker).state, "completed")
