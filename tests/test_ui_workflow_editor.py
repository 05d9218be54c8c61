from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import ValidationError
from odoo.tests import tagged, users

from .common import MarketingAutomationCommon


@tagged("marketing_automation", "post_install", "-at_install")
class TestWorkflowEditor(MarketingAutomationCommon):
    """The server side of the campaign's workflow editor: the figures of its
    blocks, trees built before saving, and deletions that keep Email
    Marketing's statistics."""

    # ------------------------------------------------------------
    # METRICS
    # ------------------------------------------------------------

    @users("user_marketing_automation")
    def test_metrics(self):
        """Totals, a 15-day series ending today, ratios over sent mails; test
        participants only count as traces a deletion would remove."""
        campaign = self._create_campaign()
        email = self._create_activity(
            campaign, "email", domain=repr([("id", "!=", self.contacts[2].id)])
        )
        action = self._create_activity(campaign, "action", parent=email)
        run_day = self.reference_now - timedelta(days=3)
        with freeze_time(run_day), self.mock_mail_gateway():
            self._run_campaign(campaign)
            test_participant = self._launch_test(campaign, self.contacts[0])
            test_participant.trace_ids.action_execute()
            self._send_queued_mails()
        processed = self._traces(email, self.contacts[:2])
        self.assertTraceStates(processed, "processed")
        self.assertTraceStates(self._traces(email, self.contacts[2]), "rejected")
        processed[0].mailing_trace_ids.set_opened()
        processed[0].mailing_trace_ids.set_clicked()
        # a processed trace older than the window counts in the totals only
        old_trace = self._traces(action, self.contacts[1])
        old_trace.sudo().schedule_date = self.reference_now - timedelta(days=20)

        with freeze_time(self.reference_now):
            metrics = campaign.get_workflow_metrics()

        self.assertEqual(set(metrics), {email.id, action.id})
        email_metrics = metrics[email.id]
        series = email_metrics["series"]
        self.assertEqual(len(series["days"]), 15)
        self.assertEqual(series["days"][0], "2024-11-11")
        self.assertEqual(series["days"][-1], "2024-11-25")
        expected_processed = [0] * 15
        expected_processed[11] = 2
        expected_rejected = [0] * 15
        expected_rejected[11] = 1
        self.assertEqual(series["processed"], expected_processed)
        self.assertEqual(series["rejected"], expected_rejected)
        self.assertEqual(
            {key: email_metrics[key] for key in ("processed", "rejected", "trace_count")},
            {"processed": 2, "rejected": 1, "trace_count": 4},
        )
        self.assertEqual(
            {
                key: email_metrics[key]
                for key in ("sent", "open", "click", "reply", "bounce")
                + ("open_ratio", "click_ratio", "reply_ratio", "bounce_ratio")
            },
            {
                "sent": 2,
                "open": 1,
                "click": 1,
                "reply": 0,
                "bounce": 0,
                "open_ratio": 50.0,
                "click_ratio": 50.0,
                "reply_ratio": 0.0,
                "bounce_ratio": 0.0,
            },
        )
        action_metrics = metrics[action.id]
        self.assertEqual(action_metrics["processed"], 2)
        expected_action = [0] * 15
        expected_action[11] = 1
        self.assertEqual(action_metrics["series"]["processed"], expected_action)
        self.assertEqual(action_metrics["sent"], 0)
        self.assertEqual(action_metrics["open_ratio"], 0.0)

    @users("user_marketing_automation")
    def test_metrics_days_in_user_time_zone(self):
        """The days of the series are the user's: in Brussels (UTC+1 in
        November) a trace run at 23:00 UTC counts on the next day, and the
        first day of the window starts at 23:00 UTC the day before."""
        campaign = self._create_campaign()
        action = self._create_activity(campaign, "action")
        with freeze_time(self.reference_now - timedelta(days=2)):
            self._run_campaign(campaign)
        late_evening, midnight, first_day = self._traces(action, self.contacts[:3])
        # the engine's dates, moved around local midnights
        late_evening.sudo().schedule_date = datetime(2024, 11, 23, 22, 59)
        midnight.sudo().schedule_date = datetime(2024, 11, 23, 23, 0)
        first_day.sudo().schedule_date = datetime(2024, 11, 10, 23, 0)

        def series(tz):
            with freeze_time(self.reference_now):
                metrics = campaign.with_context(tz=tz).get_workflow_metrics()
            return metrics[action.id]["series"]

        brussels = series("Europe/Brussels")
        self.assertEqual((brussels["days"][0], brussels["days"][-1]), ("2024-11-11", "2024-11-25"))
        self.assertEqual(brussels["processed"], [1] + [0] * 11 + [1, 1, 0])
        # the same traces on UTC days: both evening ones on the 23rd, the
        # first one before the window
        self.assertEqual(series("UTC")["processed"], [0] * 12 + [2, 0, 0])
        # late in Brussels, tomorrow has begun: the window moves by one day
        with freeze_time(datetime(2024, 11, 25, 23, 30)):
            late = campaign.with_context(tz="Europe/Brussels").get_workflow_metrics()
        self.assertEqual(late[action.id]["series"]["days"][-1], "2024-11-26")
        self.assertEqual(late[action.id]["series"]["processed"], [0] * 11 + [1, 1, 0, 0])

    @users("user_marketing_automation")
    def test_metrics_query_count(self):
        """One query per measure, whatever the number of activities."""

        def campaign_with(count):
            campaign = self._create_campaign()
            parent = self._create_activity(campaign, "email")
            for _index in range(count - 1):
                self._create_activity(campaign, "action", parent=parent)
            with self.mock_mail_gateway():
                self._run_campaign(campaign)
            return campaign

        small, large = campaign_with(1), campaign_with(20)
        self.assertEqual(len(large.marketing_activity_ids), 20)
        self.assertTrue(large.marketing_activity_ids.trace_ids)
        small_count = self._count_queries(small.get_workflow_metrics)
        large_count = self._count_queries(large.get_workflow_metrics)
        self.assertEqual(large_count, small_count)
        self.assertLessEqual(small_count, 6)

    def test_trigger_label(self):
        """ "1 Hours" reads "1 Hour" and "Clicked after 0 Hours" reads
        "Clicked, at once", as the blocks show them."""
        campaign = self._create_campaign()
        root = self._create_activity(campaign, "email", interval_number=1)
        child = self._create_activity(
            campaign,
            "action",
            parent=root,
            trigger_type="mail_not_open",
            interval_number=1,
            interval_type="days",
        )
        self.assertEqual(root.trigger_label, "1 Hour")
        self.assertEqual(child.trigger_label, "Not opened within 1 Day")
        child.interval_number = 2
        self.assertEqual(child.trigger_label, "Not opened within 2 Days")
        # no delay: "Clicked, at once", not "Clicked after 0 Hours"
        root.interval_number = 0
        child.write({"trigger_type": "mail_click", "interval_number": 0})
        self.assertEqual(root.trigger_label, "At once")
        self.assertEqual(child.trigger_label, "Clicked, at once")

    @users("user_marketing_automation")
    def test_sms_text_in_the_activity(self):
        """The text of an SMS is written in the activity: its template is
        created from it, or updated."""
        campaign = self._create_campaign()
        sms = self.env["marketing.activity"].create(
            {
                "name": "Say hi",
                "campaign_id": campaign.id,
                "activity_type": "sms",
                "sms_body": "Hi there",
                "interval_number": 0,
            }
        )
        mailing = sms.mass_mailing_id
        self.assertEqual(
            (
                mailing.mailing_type,
                mailing.subject,
                mailing.body_plaintext,
                mailing.mailing_model_real,
                mailing.use_in_marketing_automation,
                mailing.campaign_id,
            ),
            ("sms", "Say hi", "Hi there", "res.partner", True, campaign.utm_campaign_id),
        )
        self.assertEqual(sms.sms_body, "Hi there")
        sms.sms_body = "Hello"
        self.assertEqual(mailing.body_plaintext, "Hello")
        # an action that becomes an SMS written inline
        action = self._create_activity(campaign, "action")
        action.write({"activity_type": "sms", "sms_body": "Bye", "server_action_id": False})
        self.assertEqual(action.mass_mailing_id.body_plaintext, "Bye")
        self.assertNotEqual(action.mass_mailing_id, mailing)
        with self.mockSMSGateway():
            self._run_campaign(campaign)
            self._send_queued_sms()
        self.assertTraceStates(self._traces(sms), "processed")

    # ------------------------------------------------------------
    # TREES BUILT BEFORE SAVING
    # ------------------------------------------------------------

    def _activity_values(self, name, activity_type="email", **values):
        content = {
            "email": {"mass_mailing_id": self.mailing_email.id},
            "sms": {"mass_mailing_id": self.mailing_sms.id},
            "action": {"server_action_id": self.server_action.id},
        }[activity_type]
        return {"name": name, "activity_type": activity_type, **content, **values}

    @users("user_marketing_automation")
    def test_unsaved_tree_created_on_save(self):
        """The editor names unsaved parents by their client reference."""
        campaign = self._create_campaign(
            marketing_activity_ids=[
                (0, "virtual_1", self._activity_values("Welcome")),
                (
                    0,
                    "virtual_3",
                    self._activity_values(
                        "Thanks", "action", parent_id="virtual_1", trigger_type="mail_open"
                    ),
                ),
                (
                    0,
                    "virtual_2",
                    self._activity_values(
                        "Reminder", parent_id="virtual_1", trigger_type="mail_not_open"
                    ),
                ),
                (
                    0,
                    "virtual_4",
                    self._activity_values(
                        "Again", "action", parent_id="virtual_2", trigger_type="mail_click"
                    ),
                ),
            ]
        )
        activities = {activity.name: activity for activity in campaign.marketing_activity_ids}
        self.assertEqual(set(activities), {"Welcome", "Thanks", "Reminder", "Again"})
        self.assertFalse(activities["Welcome"].parent_id)
        self.assertEqual(activities["Thanks"].parent_id, activities["Welcome"])
        self.assertEqual(activities["Reminder"].parent_id, activities["Welcome"])
        self.assertEqual(activities["Again"].parent_id, activities["Reminder"])

        # and on a saved campaign, under a saved or an unsaved parent
        campaign.write(
            {
                "marketing_activity_ids": [
                    (1, activities["Again"].id, {"name": "Again and again"}),
                    (0, "virtual_5", self._activity_values("SMS", "sms")),
                    (
                        0,
                        "virtual_6",
                        self._activity_values(
                            "SMS click", "action", parent_id="virtual_5", trigger_type="sms_click"
                        ),
                    ),
                    (
                        0,
                        "virtual_7",
                        self._activity_values(
                            "After",
                            "action",
                            parent_id=activities["Thanks"].id,
                            trigger_type="activity",
                        ),
                    ),
                ]
            }
        )
        activities = {activity.name: activity for activity in campaign.marketing_activity_ids}
        self.assertEqual(len(activities), 7)
        self.assertIn("Again and again", activities)
        self.assertEqual(activities["SMS click"].parent_id, activities["SMS"])
        self.assertEqual(activities["After"].parent_id, activities["Thanks"])

    @users("user_marketing_automation")
    def test_unsaved_tree_checks_triggers(self):
        """The trigger/parent check applies to unsaved parents too."""
        with self.assertRaises(ValidationError):
            self._create_campaign(
                marketing_activity_ids=[
                    (0, "virtual_1", self._activity_values("Welcome")),
                    (
                        0,
                        "virtual_2",
                        self._activity_values(
                            "Clicked SMS", parent_id="virtual_1", trigger_type="sms_click"
                        ),
                    ),
                ]
            )
        with self.assertRaises(ValidationError):
            self._create_campaign(
                marketing_activity_ids=[
                    (0, "virtual_2", self._activity_values("Orphan", parent_id="virtual_9")),
                ]
            )

    # ------------------------------------------------------------
    # DELETION
    # ------------------------------------------------------------

    @users("user_marketing_automation")
    def test_delete_activity_keeps_mailing_statistics(self):
        campaign = self._create_campaign()
        email = self._create_activity(campaign, "email")
        with self.mock_mail_gateway():
            self._run_campaign(campaign)
            self._send_queued_mails()
        mailing_traces = self._traces(email).mailing_trace_ids
        self.assertEqual(len(mailing_traces), 3)
        mailing_traces[0].set_opened()

        # the history of real participants is deleted by an administrator
        email.with_user(self.user_admin).unlink()

        self.assertEqual(mailing_traces.exists(), mailing_traces)
        self.assertFalse(any(mailing_traces.mapped("marketing_trace_id")))
        self.assertFalse(any(mailing_traces.mapped("marketing_activity_id")))
        self.assertEqual(sorted(mailing_traces.mapped("trace_status")), ["open", "sent", "sent"])
        mailing = self.mailing_email.with_env(self.env)
        mailing.invalidate_recordset()
        self.assertEqual(mailing.sent, 3)
        self.assertEqual(mailing.opened, 1)
