from datetime import timedelta
from unittest import SkipTest

from odoo.tests import TransactionCase, tagged


@tagged("marketing_automation", "post_install", "-at_install")
class TestDemo(TransactionCase):
    """The demo data: three campaigns of the administrator, one of them run by
    the engine over the days before the install."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.campaign = cls.env.ref(
            "marketing_automation_community.demo_campaign_welcome", raise_if_not_found=False
        )
        if not cls.campaign:
            raise SkipTest("installed without demo data")

    def test_demo_campaigns(self):
        campaigns = self.env["marketing.campaign"].search([])
        self.assertEqual(
            sorted(campaigns.mapped("name")),
            ["Double Opt-in", "Welcome Flow", "Welcome new contacts"],
        )
        self.assertEqual(set(campaigns.user_id), {self.env.ref("base.user_admin")})
        self.assertEqual(self.campaign.state, "running")
        self.assertFalse(campaigns.filtered(lambda campaign: not campaign.marketing_activity_ids))

    def test_demo_running_campaign(self):
        """Participants and traces in every state, mails opened, clicked,
        replied and bounced, SMS sent, all dated within the 15 days of the
        graphs, and nothing left in the outgoing queues."""
        participants = self.campaign.participant_ids
        self.assertEqual(set(participants.mapped("state")), {"running", "completed"})
        traces = participants.trace_ids
        self.assertEqual(
            set(traces.mapped("state")), {"scheduled", "processed", "rejected", "canceled", "error"}
        )
        mailing_traces = traces.mailing_trace_ids
        mail_statuses = set(
            mailing_traces.filtered(lambda t: t.trace_type == "mail").mapped("trace_status")
        )
        self.assertTrue({"sent", "open", "reply", "bounce"} <= mail_statuses)
        self.assertTrue(mailing_traces.filtered("links_click_datetime"))
        self.assertIn(
            "sent",
            mailing_traces.filtered(lambda t: t.trace_type == "sms").mapped("trace_status"),
        )
        installed = self.campaign.create_date
        dates = traces.filtered("schedule_date").mapped("schedule_date")
        self.assertTrue(all(installed - timedelta(days=15) < date < installed for date in dates))
        self.assertLess(min(dates), installed - timedelta(days=10), "the graphs span two weeks")
        mailings = self.campaign.marketing_activity_ids.mass_mailing_id
        self.assertFalse(self.env["mail.mail"].search([("mailing_id", "in", mailings.ids)]))
        self.assertFalse(self.env["sms.sms"].search([("mailing_id", "in", mailings.ids)]))

    def test_demo_sms_numbers(self):
        """The demo's SMS go to numbers that pass Odoo's format check: none
        is rejected for its number."""
        traces = self.env.ref("marketing_automation_community.demo_activity_sms").trace_ids
        self.assertTrue(traces)
        contacts = self.env["res.partner"].browse(traces.mapped("res_id"))
        numbers = {info["sanitized"] for info in contacts._sms_get_recipients_info().values()}
        self.assertNotIn(False, numbers)
        self.assertEqual(len(numbers), len(contacts), "one number per contact")
        self.assertFalse(
            traces.mailing_trace_ids.filtered(lambda t: t.failure_type == "sms_number_format")
        )

    def test_demo_split(self):
        """The demo campaign's A/B split sent each contact down one branch,
        and both branches have figures: sent, opened and clicked."""
        split = self.env.ref("marketing_automation_community.demo_activity_split")
        self.assertEqual(split.campaign_id, self.campaign)
        results = split.get_split_results()
        self.assertEqual(
            [result["name"] for result in results], ["Offer A: 10% off", "Offer B: free shipping"]
        )
        for result in results:
            self.assertGreater(result["participants"], 0, result["name"])
            self.assertGreater(result["sent"], 0, result["name"])
            self.assertGreater(result["opened"], 0, result["name"])
            self.assertGreater(result["clicked"], 0, result["name"])
        self.assertEqual(
            sum(result["participants"] for result in results),
            len(self.campaign.participant_ids.filtered(lambda p: not p.is_test)),
        )
        self.assertEqual(self.campaign.participant_ids.branch_id, split.child_ids)
        self.assertIn("split_results", self.campaign.get_workflow_metrics()[split.id])
