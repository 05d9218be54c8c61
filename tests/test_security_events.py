from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import tagged, users

from ..tools.campaign_batch import CAMPAIGN_BATCH_KEY, CampaignBatch
from .common import MarketingAutomationCommon


class EventSecurityCase(MarketingAutomationCommon):
    """A campaign of company A whose email waits to be opened, and a
    marketing user of company B."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._set_up_two_companies("events")

    def _run_opened_campaign(self):
        """Company A's campaign, its email sent: return the email's marketing
        traces and the children waiting for an open."""
        campaign = self._create_campaign(name="Company A secrets")
        root = self._create_activity(campaign, "email", name="Secret A email")
        child = self._create_activity(
            campaign, "email", root, name="Secret A follow-up", trigger_type="mail_open"
        )
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            self._run_campaign(campaign)
            self._send_queued_mails()
        self.assertEqual(campaign.company_id, self.company_a)
        traces = self._traces(root, self.contacts)
        self.assertTraceStates(traces, "processed")
        waiting = self._traces(child, self.contacts)
        self.assertTraceStates(waiting, "scheduled")
        self.assertFalse(any(waiting.mapped("schedule_date")))
        return traces, waiting


@tagged("marketing_automation", "post_install", "-at_install")
class TestForgedEvents(EventSecurityCase):
    """Issue #15, item 4: events of a campaign come from the message the
    campaign sent, never from a mailing trace made or rewritten by a user."""

    def test_other_company_cannot_forge_events(self):
        traces, waiting = self._run_opened_campaign()
        mailing_trace_a = self._mailing_trace(traces[0])
        MailingTraceB = self.env["mailing.trace"].with_user(self.user_marketing_b)

        # a mailing trace of his own pointing at company A's trace
        with self.assertRaises(AccessError):
            MailingTraceB.create(
                {
                    "model": "res.partner",
                    "res_id": self.contacts[0].id,
                    "mass_mailing_id": self.mailing_email.id,
                    "marketing_trace_id": traces[0].id,
                    "trace_status": "sent",
                }
            )
        # company A's own message, opened or failed by company B
        for status in ("open", "error"):
            with self.subTest(status=status), self.assertRaises(AccessError):
                MailingTraceB.browse(mailing_trace_a.id).write({"trace_status": status})
        with self.assertRaises(AccessError):
            MailingTraceB.browse(mailing_trace_a.id).set_opened()

        self.assertTraceStates(traces, "processed")
        self.assertTraceStates(waiting, "scheduled")
        self.assertFalse(any(waiting.mapped("schedule_date")))

    @users("user_marketing_automation")
    def test_marketing_trace_link_is_the_engines(self):
        """Even in his own company, a user neither links a message of his to a
        campaign trace nor moves a message to another trace."""
        traces, waiting = self._run_opened_campaign()
        mailing_trace = self._mailing_trace(traces[0]).with_env(self.env)
        with self.assertRaises(AccessError):
            self.env["mailing.trace"].create(
                {
                    "model": "res.partner",
                    "res_id": self.contacts[1].id,
                    "mass_mailing_id": self.mailing_email.id,
                    "marketing_trace_id": traces[1].id,
                }
            )
        with self.assertRaises(AccessError):
            mailing_trace.write({"marketing_trace_id": traces[1].id})
        self.assertEqual(traces[1].mailing_trace_ids, self._mailing_trace(traces[1]))
        self.assertFalse(any(waiting.mapped("schedule_date")))

    def test_event_only_from_the_campaign_message(self):
        """A message of another mailing linked to the trace (whoever linked
        it) records nothing for the campaign; the campaign's own message,
        opened through Odoo's API by a user of the company, does."""
        traces, waiting = self._run_opened_campaign()
        mailing_trace = self._mailing_trace(traces[0])
        other = (
            self.env["mailing.trace"]
            .sudo()
            .create(
                {
                    "model": "res.partner",
                    "res_id": self.contacts[0].id,
                    "mass_mailing_id": self.mailing_email_followup.id,
                    "marketing_trace_id": traces[0].id,
                }
            )
        )
        with freeze_time(self.reference_now):
            other.set_opened()
            other.set_bounced()
        self.assertTraceStates(traces, "processed")
        self.assertTraceStates(waiting, "scheduled")
        self.assertFalse(any(waiting.mapped("schedule_date")))

        with freeze_time(self.reference_now):
            mailing_trace.with_user(self.user_marketing_automation).set_opened()
        self.assertEqual(waiting[0].schedule_date, self.reference_now)
        self.assertFalse(any(waiting[1:].mapped("schedule_date")))

    def test_activity_names_hidden_from_other_companies(self):
        """Issue #15, item 13: company A's campaign messages, hence its
        activity names, are out of reach of company B."""
        traces, _waiting = self._run_opened_campaign()
        mailing_traces = traces.mailing_trace_ids
        MailingTraceB = self.env["mailing.trace"].with_user(self.user_marketing_b)
        self.assertFalse(MailingTraceB.search([("id", "in", mailing_traces.ids)]))
        self.assertFalse(MailingTraceB.search([("marketing_activity_id", "!=", False)]))
        groups = MailingTraceB.read_group([], ["marketing_activity_id"], ["marketing_activity_id"])
        self.assertNotIn("Secret A email", str(groups))
        with self.assertRaises(AccessError):
            MailingTraceB.browse(mailing_traces.ids).read(["marketing_activity_id"])
        with self.assertRaises(AccessError):
            MailingTraceB.browse(mailing_traces[:1].id).marketing_trace_id.display_name  # noqa: B018
        # company A reads them
        MailingTraceA = self.env["mailing.trace"].with_user(self.user_marketing_automation)
        self.assertEqual(
            MailingTraceA.browse(mailing_traces[:1].id).marketing_activity_id.display_name,
            "Secret A email",
        )


@tagged("marketing_automation", "post_install", "-at_install")
class TestListOptOut(MarketingAutomationCommon):
    """Issue #15, item 8: a mailing contact opted out of the campaign's lists
    gets no campaign email; its trace is rejected with the reason."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.newsletter = cls.env["mailing.list"].create({"name": "Newsletter"})
        cls.other_list = cls.env["mailing.list"].create({"name": "Events"})
        cls.subscribed, cls.opted_out, cls.opted_out_elsewhere = cls.env["mailing.contact"].create(
            [
                {"name": f"Reader {index}", "email": f"reader.{index}@example.com"}
                for index in range(3)
            ]
        )
        cls.env["mailing.subscription"].create(
            [
                {"contact_id": cls.subscribed.id, "list_id": cls.newsletter.id},
                {"contact_id": cls.opted_out.id, "list_id": cls.newsletter.id, "opt_out": True},
                {"contact_id": cls.opted_out_elsewhere.id, "list_id": cls.newsletter.id},
                {
                    "contact_id": cls.opted_out_elsewhere.id,
                    "list_id": cls.other_list.id,
                    "opt_out": True,
                },
            ]
        )
        cls.readers = cls.subscribed + cls.opted_out + cls.opted_out_elsewhere
        cls.contact_model = cls.env["ir.model"]._get("mailing.contact")
        cls.mailing_contacts = cls._create_marketing_mailing(
            "Readers", "mail", model_name="mailing.contact"
        )

    def _sent_to(self, contact):
        return [m for m in self._mails if any(contact.email in to for to in m["email_to"])]

    @users("user_marketing_automation")
    def test_opted_out_contact_rejected(self):
        campaign = self._create_campaign(
            domain=[("id", "in", self.readers.ids)], model_id=self.contact_model.id
        )
        activity = self._create_activity(
            campaign, "email", mass_mailing_id=self.mailing_contacts.id
        ).with_env(self.env)
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            self._run_campaign(campaign.with_env(self.env))
            self._send_queued_mails()
        subscribed, opted_out, opted_out_elsewhere = self._traces(activity, self.readers)
        self.assertTraceStates(subscribed + opted_out_elsewhere, "processed")
        self.assertTraceStates(opted_out, "rejected", "Opted Out")
        self.assertTrue(self._sent_to(self.subscribed))
        self.assertTrue(self._sent_to(self.opted_out_elsewhere), "still on Newsletter")
        self.assertFalse(self._sent_to(self.opted_out))

        # a mailing that names its lists: only those count
        self.mailing_contacts.sudo().contact_list_ids = self.other_list
        self.assertEqual(
            self.env["mailing.contact"]
            .with_context(**{CAMPAIGN_BATCH_KEY: CampaignBatch.fromkeys(self.readers.ids)})
            ._mailing_get_opt_out_list(self.mailing_contacts),
            {self.opted_out_elsewhere.email},
        )

    @users("user_marketing_automation")
    def test_double_opt_in_skips_opted_out_subscribers(self):
        action = self.env["marketing.campaign"].action_create_campaign_from_template(
            "double_opt_in"
        )
        campaign = self.env["marketing.campaign"].browse(action["res_id"])
        welcome = self.env["marketing.campaign"].browse(
            self.env["marketing.campaign"].action_create_campaign_from_template("welcome")["res_id"]
        )
        for template in (campaign, welcome):
            self._start(template)
        enrolled = campaign.participant_ids.mapped("res_id")
        self.assertIn(self.subscribed.id, enrolled)
        self.assertIn(self.opted_out_elsewhere.id, enrolled)
        self.assertNotIn(self.opted_out.id, enrolled)
        self.assertNotIn(self.opted_out.id, welcome.participant_ids.mapped("res_id"))
