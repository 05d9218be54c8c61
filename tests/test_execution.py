from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import MarketingAutomationCommon

TRACE_LOGGER = "odoo.addons.marketing_automation_community.models.marketing_trace"


@tagged("marketing_automation", "post_install", "-at_install")
class TestExecution(MarketingAutomationCommon):
    """Running due traces: what each activity type does, who gets rejected,
    canceled or fails and why, and which children follow (expiry and
    completion: test_completion_expiry.py)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the test contacts and the ones created later on match the filter
        cls.domain = [("name", "=like", "Contact %")]
        cls._act_as_marketing_user()

    def assertRefused(self, activity, *refusals):
        """Each (record, reason) of ``refusals`` has its trace rejected with
        the mailing's reason, and a canceled mailing trace."""
        for record, reason in refusals:
            with self.subTest(record=record.name):
                trace = self._traces(activity, record)
                self.assertTraceStates(trace, "rejected", f"Not sent: {reason}")
                self.assertEqual(self._mailing_trace(trace).trace_status, "cancel")

    # ------------------------------------------------------------
    # EMAIL
    # ------------------------------------------------------------

    def test_email_sent_tracked(self):
        campaign = self._create_campaign()
        activity = self._create_activity(campaign, "email")
        executed_at = self.reference_now + timedelta(minutes=30)
        with freeze_time(self.reference_now) as frozen, self.mock_mail_gateway():
            self._start(campaign)
            frozen.tick(timedelta(minutes=30))
            campaign.execute_activities()
            traces = self._traces(activity, self.contacts)
            self.assertTraceStates(traces, "processed")
            self.assertEqual(set(traces.mapped("schedule_date")), {executed_at})
            self.assertEqual(len(self._new_mails), len(self.contacts), "queued, not sent yet")
            self.assertEqual(set(self._new_mails.mapped("state")), {"outgoing"})
            self.assertFalse(self._mails)
            self._send_queued_mails()

        link = self.env["link.tracker"].search(
            [
                ("url", "=", "https://www.example.com/offer"),
                ("mass_mailing_id", "=", self.mailing_email.id),
            ]
        )
        self.assertEqual(len(link), 1, "one tracked link, shared by the recipients")
        self.assertEqual(link.campaign_id, campaign.utm_campaign_id)
        for contact, trace in zip(self.contacts, traces, strict=True):
            with self.subTest(contact=contact.name):
                mailing_trace = self._mailing_trace(trace)
                self.assertEqual(mailing_trace.trace_status, "sent")
                self.assertEqual(mailing_trace.mass_mailing_id, self.mailing_email)
                self.assertEqual(
                    (mailing_trace.model, mailing_trace.res_id), (contact._name, contact.id)
                )
                self.assertEqual(mailing_trace.email, contact.email_normalized)
                self.assertEqual(mailing_trace.campaign_id, campaign.utm_campaign_id)
                self.assertMailMail(
                    contact,
                    "sent",
                    author=campaign.user_id.partner_id,  # sent by the responsible
                    fields_values={"mailing_id": self.mailing_email, "subject": "Welcome"},
                    email_values={"email_from": self.mailing_email.email_from},
                )
                email = self._find_sent_mail_wemail(contact.email_formatted)
                self.assertIn(f"Hello {contact.name}, Welcome", email["body"])
                self.assertIn(f"{link.short_url}/m/{mailing_trace.id}", email["body"])
                self.assertNotIn('href="https://www.example.com/offer"', email["body"])
                unsubscribe = email["headers"]["List-Unsubscribe"]
                self.assertIn(
                    f"/mailing/{self.mailing_email.id}/unsubscribe_oneclick?", unsubscribe
                )
                self.assertIn(f"document_id={contact.id}", unsubscribe)
        self.assertEqual(activity.processed, len(self.contacts))
        self.assertEqual(activity.total_sent, len(self.contacts))

    def test_email_rejected_recipients(self):
        blacklisted, without_email, invalid_email = self.contacts
        without_email.email = False
        invalid_email.email = "not an email"
        self.env["mail.blacklist"].create({"email": blacklisted.email})
        reachable = self.env["res.partner"].create(
            {"name": "Contact reachable", "email": "reachable@example.com"}
        )
        campaign = self._create_campaign(domain=self.domain)
        activity = self._create_activity(campaign, "email")
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            self._start(campaign)
            campaign.execute_activities()
            self._send_queued_mails()

        self.assertRefused(
            activity,
            (blacklisted, "Blacklisted Address"),
            (without_email, "Missing email address"),
            (invalid_email, "Invalid email address"),
        )
        self.assertTraceStates(self._traces(activity, reachable), "processed")
        self.assertEqual(
            self._new_mails.filtered(lambda m: m.state == "sent").recipient_ids, reachable
        )
        self.assertNotSentEmail([blacklisted.email_formatted, invalid_email.email_formatted])
        self.assertEqual((activity.processed, activity.rejected), (1, 3))

    # ------------------------------------------------------------
    # SMS
    # ------------------------------------------------------------

    def test_sms_queued_tracked(self):
        campaign = self._create_campaign()
        activity = self._create_activity(campaign, "sms")
        with freeze_time(self.reference_now), self.mockSMSGateway():
            self._start(campaign)
            campaign.execute_activities()

        traces = self._traces(activity, self.contacts)
        self.assertTraceStates(traces, "processed")
        self.assertEqual(set(traces.mapped("schedule_date")), {self.reference_now})
        link = self.env["link.tracker"].search(
            [
                ("url", "=", "https://www.example.com/sms-offer"),
                ("mass_mailing_id", "=", self.mailing_sms.id),
            ]
        )
        self.assertEqual(len(link), 1)
        self.assertEqual(link.campaign_id, campaign.utm_campaign_id)
        self.assertSMSTraces(
            [
                {"partner": contact, "number": contact.phone_sanitized, "content": "Welcome SMS: "}
                for contact in self.contacts
            ],
            self.mailing_sms,
            self.contacts,
        )
        for contact, trace in zip(self.contacts, traces, strict=True):
            with self.subTest(contact=contact.name):
                mailing_trace = self._mailing_trace(trace)
                self.assertEqual(mailing_trace.trace_type, "sms")
                self.assertEqual(mailing_trace.res_id, contact.id)
                self.assertEqual(mailing_trace.campaign_id, campaign.utm_campaign_id)
                sms = self._find_sms_sms(contact, contact.phone_sanitized, "outgoing")
                self.assertIn(link.short_url, sms.body)

    def test_sms_rejected_recipients(self):
        blacklisted, without_phone, reachable = self.contacts
        without_phone.phone = False
        self.env["phone.blacklist"].sudo().create({"number": blacklisted.phone})
        invalid_phone = self.env["res.partner"].create(
            {
                "name": "Contact invalid phone",
                "phone": "12",
                "country_id": self.env.ref("base.be").id,
            }
        )
        campaign = self._create_campaign(domain=self.domain)
        activity = self._create_activity(campaign, "sms")
        with freeze_time(self.reference_now), self.mockSMSGateway():
            self._start(campaign)
            campaign.execute_activities()

        self.assertRefused(
            activity,
            (blacklisted, "Blacklisted"),
            (without_phone, "Missing Number"),
            (invalid_phone, "Wrong Number Format"),
        )
        self.assertTraceStates(self._traces(activity, reachable), "processed")
        self.assertEqual(
            self._new_sms.filtered(lambda sms: sms.state == "outgoing").partner_id, reachable
        )

    # ------------------------------------------------------------
    # SERVER ACTION
    # ------------------------------------------------------------

    def test_action_runs_on_participant_record(self):
        outsider = self.env["res.partner"].create({"name": "Outsider"})
        campaign = self._create_campaign(
            domain=[("id", "in", self.contacts[:2].ids)], user_id=self.user_marketing_automation.id
        )
        activity = self._create_activity(campaign, "action")
        with freeze_time(self.reference_now):
            self._start(campaign)
            campaign.execute_activities()

        self.assertTraceStates(self._traces(activity), "processed")
        self.assertEqual(self.contacts.mapped("ref"), ["engaged", "engaged", False])
        self.assertFalse(outsider.ref)
        self.assertEqual(self.contacts[:2].write_uid, self.user_marketing_automation)

    @mute_logger(TRACE_LOGGER, "odoo.addons.base.models.ir_actions")
    def test_action_runs_with_responsible_rights(self):
        employee = mail_new_test_user(
            self.env(su=True),
            login="employee_automation",
            groups="base.group_user,marketing_automation_community.group_marketing_automation_user",
        )
        # his own campaign: he may read the contacts, not change them
        campaign = (
            self.env["marketing.campaign"]
            .with_user(employee)
            .create(
                {
                    "name": "Employee's",
                    "model_id": self.partner_model.id,
                    "domain": repr([("id", "in", self.contacts.ids)]),
                }
            )
        )
        self.assertEqual(campaign.user_id, employee)
        activity = self._create_activity(campaign, "action")
        with freeze_time(self.reference_now):
            self._start(campaign)
            campaign.execute_activities()

        traces = self._traces(activity, self.contacts)
        self.assertEqual(len(traces), len(self.contacts), "the employee reads the contacts")
        self.assertTraceStates(traces, "error", "not allowed to modify")
        self.assertEqual(set(traces.mapped("schedule_date")), {self.reference_now})
        self.assertFalse(any(self.contacts.mapped("ref")))

    @mute_logger(TRACE_LOGGER)
    def test_action_error_isolated(self):
        self.server_action.code = (
            "record.write({'ref': 'engaged'})\n"
            "if record.name == 'Contact 1':\n"
            "    raise UserError('Contact 1 cannot be engaged')\n"
            "if record.name == 'Contact 2':\n"
            "    record.write({'ref': 1 / 0})"
        )
        campaign = self._create_campaign()
        activity = self._create_activity(campaign, "action")
        with freeze_time(self.reference_now):
            self._start(campaign)
            campaign.execute_activities()

        succeeded, refused, crashed = self._traces(activity, self.contacts)
        self.assertTraceStates(succeeded, "processed")
        self.assertTraceStates(refused + crashed, "error")
        self.assertEqual(refused.state_msg, "Contact 1 cannot be engaged")
        self.assertEqual(crashed.state_msg, "ZeroDivisionError: division by zero")
        self.assertEqual(set(activity.trace_ids.mapped("schedule_date")), {self.reference_now})
        self.assertEqual(self.contacts.mapped("ref"), ["engaged", False, False], "rolled back")

    # ------------------------------------------------------------
    # FILTERS
    # ------------------------------------------------------------

    def test_record_no_longer_matching_campaign_filter(self):
        campaign = self._create_campaign(domain=self.domain)
        activity = self._create_activity(campaign, "email")
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            self._start(campaign)
            self.contacts[0].name = "Former contact"
            campaign.execute_activities()
            self._send_queued_mails()

        trace = self._traces(activity, self.contacts[0])
        self.assertTraceStates(trace, "rejected", "does not match the filter")
        self.assertFalse(trace.mailing_trace_ids)
        self.assertTraceStates(self._traces(activity, self.contacts[1:]), "processed")
        self.assertEqual(self._new_mails.recipient_ids, self.contacts[1:])
        self.assertNotSentEmail([self.contacts[0].email_formatted])

    def test_record_no_longer_matching_activity_filters(self):
        campaign = self._create_campaign()
        root = self._create_activity(campaign, "sms", domain=repr([("phone", "!=", False)]))
        child = self._create_activity(campaign, "action", parent=root, interval_number=1)
        with freeze_time(self.reference_now) as frozen, self.mockSMSGateway():
            self._start(campaign)
            self.contacts[0].phone = False
            campaign.execute_activities()
            # the record stops matching the filter of an ancestor
            self.contacts[1].phone = False
            frozen.tick(timedelta(hours=1))
            campaign.execute_activities()

        self.assertTraceStates(self._traces(root, self.contacts[0]), "rejected", "filter")
        self.assertFalse(self._traces(root, self.contacts[0]).mailing_trace_ids)
        self.assertTraceStates(self._traces(root, self.contacts[1:]), "processed")
        self.assertTraceStates(self._traces(child, self.contacts[1]), "rejected", "filter")
        self.assertTraceStates(self._traces(child, self.contacts[2]), "processed")
        self.assertEqual(self.contacts.mapped("ref"), [False, False, "engaged"])

    def test_deleted_record_rejected(self):
        campaign = self._create_campaign()
        activity = self._create_activity(campaign, "action", interval_number=1)
        with freeze_time(self.reference_now) as frozen:
            self._start(campaign)
            run_now, run_by_campaign, kept = self._traces(activity, self.contacts)
            self.contacts[:2].unlink()
            run_now.action_execute()
            frozen.tick(timedelta(hours=1))
            campaign.execute_activities()

        self.assertTraceStates(
            run_now + run_by_campaign, "rejected", "The record no longer exists."
        )
        self.assertTraceStates(kept, "processed")
        self.assertEqual(kept.resource_ref.ref, "engaged")

    # ------------------------------------------------------------
    # TIMING
    # ------------------------------------------------------------

    def test_traces_not_due_wait(self):
        campaign = self._create_campaign()
        activity = self._create_activity(
            campaign, "action", interval_number=1, interval_type="days"
        )
        with freeze_time(self.reference_now) as frozen:
            self._start(campaign)
            traces = self._traces(activity)
            frozen.tick(timedelta(hours=23, minutes=59))
            campaign.execute_activities()
            self.assertTraceStates(traces, "scheduled")
            self.assertFalse(any(self.contacts.mapped("ref")))

            frozen.tick(timedelta(minutes=1))
            campaign.execute_activities()
        self.assertTraceStates(traces, "processed")
        self.assertEqual(
            set(traces.mapped("schedule_date")), {self.reference_now + timedelta(days=1)}
        )

    def test_stopped_campaign_not_executed(self):
        campaign = self._create_campaign()
        activity = self._create_activity(campaign, "email")
        with freeze_time(self.reference_now) as frozen, self.mock_mail_gateway():
            self._start(campaign)
            campaign.action_stop_campaign()
            frozen.tick(timedelta(days=1))
            self.assertEqual(campaign.execute_activities(), 0)

        self.assertTraceStates(self._traces(activity), "scheduled")
        self.assertFalse(self._new_mails)
        self.assertEqual(campaign.running_participant_count, len(self.contacts))

    # ------------------------------------------------------------
    # CHILDREN
    # ------------------------------------------------------------

    def test_children_scheduled_from_execution(self):
        campaign = self._create_campaign()
        root = self._create_activity(campaign, "action", interval_number=1)
        # run at 11:30 on 25 November; months are calendar months (not 90 days)
        delays = [
            (0, "hours", datetime(2024, 11, 25, 11, 30)),
            (3, "hours", datetime(2024, 11, 25, 14, 30)),
            (2, "days", datetime(2024, 11, 27, 11, 30)),
            (1, "weeks", datetime(2024, 12, 2, 11, 30)),
            (3, "months", datetime(2025, 2, 25, 11, 30)),
        ]
        children = [
            self._create_activity(
                campaign,
                "action",
                parent=root,
                name=f"{number} {interval_type}",
                interval_number=number,
                interval_type=interval_type,
            )
            for number, interval_type, _schedule_date in delays
        ]
        with freeze_time(self.reference_now) as frozen:
            self._start(campaign)
            self.assertFalse(self._traces(root).child_ids)
            frozen.tick(timedelta(hours=1, minutes=30))
            root_trace = self._traces(root, self.contacts[0])
            root_trace.action_execute()

        self.assertTraceStates(root_trace, "processed")
        self.assertEqual(len(root_trace.child_ids), len(children))
        for (_number, _interval_type, schedule_date), child in zip(delays, children, strict=True):
            with self.subTest(delay=child.name):
                trace = root_trace.child_ids.filtered(lambda t, child=child: t.activity_id == child)
                self.assertTraceStates(trace, "scheduled")
                self.assertEqual(trace.participant_id, root_trace.participant_id)
                self.assertEqual(trace.schedule_date, schedule_date)
        self.assertFalse(self._traces(root, self.contacts[1:]).child_ids)

    @mute_logger(TRACE_LOGGER)
    def test_no_children_after_failure(self):
        processed_contact = self.env["res.partner"].create(
            {"name": "Contact processed", "phone": "+32456999999"}
        )
        errored, rejected, canceled = self.contacts
        self.server_action.code = (
            "if record.name == 'Contact 0':\n    raise UserError('Contact 0 cannot be engaged')"
        )
        campaign = self._create_campaign(domain=self.domain)
        root = self._create_activity(
            campaign,
            "action",
            domain=repr([("phone", "!=", False)]),
            validity_duration=True,
            validity_duration_number=1,
            validity_duration_type="hours",
        )
        child = self._create_activity(campaign, "action", parent=root, name="Follow-up")
        with freeze_time(self.reference_now):
            self._start(campaign)
            rejected.phone = False
            self._traces(root, canceled).sudo().schedule_date = self.reference_now - timedelta(
                hours=2
            )
            campaign.execute_activities()

        self.assertTraceStates(self._traces(root, errored), "error", "cannot be engaged")
        self.assertTraceStates(self._traces(root, rejected), "rejected", "filter")
        self.assertTraceStates(self._traces(root, canceled), "canceled", "Expired")
        self.assertTraceStates(self._traces(root, processed_contact), "processed")
        self.assertEqual(child.trace_ids.parent_id, self._traces(root, processed_contact))
        self.assertTraceStates(child.trace_ids, "processed")

    # ------------------------------------------------------------
    # MANUAL ACTIONS
    # ------------------------------------------------------------

    def test_action_cancel(self):
        campaign = self._create_campaign()
        activity = self._create_activity(campaign, "action", interval_number=1)
        with freeze_time(self.reference_now) as frozen:
            self._start(campaign)
            traces = self._traces(activity, self.contacts)
            canceled = traces[0]
            canceled.action_cancel()
            self.assertTraceStates(canceled, "canceled", "Canceled manually.")
            self.assertEqual(canceled.participant_id.state, "completed")

            frozen.tick(timedelta(hours=1))
            campaign.execute_activities()
        self.assertTraceStates(canceled, "canceled", "Canceled manually.")
        self.assertEqual(canceled.schedule_date, self.reference_now)
        self.assertFalse(self.contacts[0].ref)
        self.assertTraceStates(traces - canceled, "processed")

    def test_action_execute(self):
        campaign = self._create_campaign()
        activity = self._create_activity(
            campaign, "action", interval_number=1, interval_type="weeks"
        )
        with freeze_time(self.reference_now):
            self._start(campaign)
            run_now, canceled, waiting = self._traces(activity, self.contacts)
            run_now.action_execute()
            canceled.action_cancel()

        self.assertTraceStates(run_now, "processed")
        self.assertEqual(run_now.schedule_date, self.reference_now)
        self.assertEqual(run_now.participant_id.state, "completed")
        self.assertEqual(self.contacts.mapped("ref"), ["engaged", False, False])
        self.assertTraceStates(waiting, "scheduled")
        for trace in (run_now, canceled):
            with self.subTest(state=trace.state), self.assertRaises(UserError):
                trace.action_execute()
        self.assertTraceStates(canceled, "canceled")
        self.assertEqual(self.contacts.mapped("ref"), ["engaged", False, False])
