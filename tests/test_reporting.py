from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged, users
from odoo.tools import mute_logger

from odoo.addons.base.models.ir_mail_server import IrMailServer, MailDeliveryException
from odoo.addons.mail.tests.common import mail_new_test_user

from .common import MarketingAutomationCommon


@tagged("marketing_automation", "post_install", "-at_install")
class TestCampaignReporting(MarketingAutomationCommon):
    """What a marketing user reads is true: failed mails, smart buttons,
    reports, templates kept in their campaign, filters both ways."""

    def _failing_smtp(self):
        return patch.object(
            IrMailServer, "send_email", side_effect=MailDeliveryException("Connection failed")
        )

    # ------------------------------------------------------------
    # 1. A mail that fails is not a success
    # ------------------------------------------------------------

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_mail_failed_in_queue_is_an_error(self):
        campaign = self._create_campaign(name="Failing")
        email = self._create_activity(campaign, "email")
        opened = self._create_activity(campaign, "action", parent=email, trigger_type="mail_open")
        not_opened = self._create_activity(
            campaign, "action", parent=email, trigger_type="mail_not_open", interval_number=1
        )
        after = self._create_activity(campaign, "action", parent=email, interval_number=1)
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            self._run_campaign(campaign)
            self.assertTraceStates(email.trace_ids, "processed")
            self.assertEqual(email.processed, 3)
            with self._failing_smtp():
                self._send_queued_mails()
        self.assertTraceStates(email.trace_ids, "error", "Not delivered")
        self.assertEqual((email.processed, email.failed), (0, 3))
        self.assertEqual(email.total_sent, 0)
        self.assertTraceStates(opened.trace_ids, "canceled", "not delivered")
        self.assertTraceStates(not_opened.trace_ids, "canceled", "not delivered")
        self.assertTraceStates(after.trace_ids, "scheduled")
        self.assertEqual(campaign.error_trace_count, 3)
        action = campaign.action_view_error_traces()
        self.assertEqual(
            set(self.env["marketing.trace"].search(action["domain"]).ids), set(email.trace_ids.ids)
        )

    def test_bounce_stays_processed(self):
        campaign = self._create_campaign(name="Bouncing")
        email = self._create_activity(campaign, "email")
        bounced = self._create_activity(
            campaign, "action", parent=email, trigger_type="mail_bounce"
        )
        with self.mock_mail_gateway():
            self._run_campaign(campaign)
            self._send_queued_mails()
            self.gateway_mail_trace_bounce(self.mailing_email, self.contacts[0])
        trace = self._traces(email, self.contacts[0])
        self.assertEqual(trace.state, "processed")
        self.assertEqual(
            trace.child_ids.filtered(lambda t: t.activity_id == bounced).state, "scheduled"
        )
        self.assertEqual((email.processed, email.failed), (3, 0))

    # ------------------------------------------------------------
    # 3. Smart buttons
    # ------------------------------------------------------------

    def test_smart_buttons(self):
        campaign = self._create_campaign(name="Buttons")
        email = self._create_activity(campaign, "email")
        self._create_activity(campaign, "sms", parent=email, interval_number=1)
        self.assertEqual(campaign.mailing_count, 2)
        action = campaign.action_view_mailings()
        self.assertEqual(
            self.env["mailing.mailing"].search(action["domain"]),
            self.mailing_email + self.mailing_sms,
        )
        with self.mock_mail_gateway():
            self._run_campaign(campaign)
            self._send_queued_mails()
        link = self.env["link.tracker"].search([("mass_mailing_id", "=", self.mailing_email.id)])
        for contact in self.contacts[:2]:
            self.env["link.tracker.click"].sudo().add_click(
                link.code,
                ip="100.200.30.40",
                country_code="BE",
                mailing_trace_id=self._mailing_trace(self._traces(email, contact)).id,
            )
        campaign.invalidate_recordset()
        self.assertEqual(campaign.link_click_count, 2)
        clicks = self.env["marketing.link.click.report"].search(
            campaign.action_view_link_clicks()["domain"]
        )
        self.assertEqual(len(clicks), 2)
        self.assertEqual(clicks.activity_id, email)
        self.assertEqual(set(clicks.mapped("url")), {"https://www.example.com/offer"})
        # another campaign's clicks are not counted
        other = self._create_campaign(name="Other")
        self.assertEqual(other.link_click_count, 0)
        self.assertEqual(
            (campaign.running_participant_count, campaign.total_participant_count), (3, 3)
        )
        participants = self.env["marketing.participant"].search(
            campaign.action_view_participants()["domain"]
        )
        self.assertEqual(participants, campaign.participant_ids)

    def test_kanban_columns_and_week_figure(self):
        campaign = self._create_campaign(name="Week")
        self._create_activity(campaign, "action")
        with freeze_time(self.reference_now):
            self._run_campaign(campaign)
            self.assertEqual(campaign.processed_week_count, 3)
        with freeze_time(self.reference_now + timedelta(days=8)):
            campaign.invalidate_recordset(["processed_week_count"])
            self.assertEqual(campaign.processed_week_count, 0)
        groups = self.env["marketing.campaign"].web_read_group(
            [("id", "=", campaign.id)], ["state"], ["state"]
        )["groups"]
        self.assertEqual([group["state"] for group in groups], ["draft", "running", "stopped"])

    # ------------------------------------------------------------
    # 4. Campaign templates stay in their campaign
    # ------------------------------------------------------------

    def test_templates_hidden_and_never_sent_elsewhere(self):
        regular = self.env["mailing.mailing"].create(
            {"subject": "Newsletter", "mailing_type": "mail", "body_html": "<p>News</p>"}
        )
        for xmlid in (
            "mass_mailing.mailing_mailing_action_mail",
            "mass_mailing_sms.mailing_mailing_action_sms",
        ):
            with self.subTest(action=xmlid):
                action = self.env["ir.actions.actions"]._for_xml_id(xmlid)
                self.assertIn(
                    "'search_default_filter_no_marketing_automation': 1", action["context"]
                )
        hidden = self.env["mailing.mailing"].search(
            [
                ("use_in_marketing_automation", "=", False),
                ("id", "in", (regular + self.mailing_email).ids),
            ]
        )
        self.assertEqual(hidden, regular)
        mailing = self.mailing_email.with_user(self.user_marketing_automation)
        for method in (
            "action_launch",
            "action_schedule",
            "action_put_in_queue",
            "action_send_mail",
        ):
            with self.subTest(method=method), self.assertRaises(UserError):
                getattr(mailing, method)()
        with self.assertRaises(UserError):
            self.mailing_sms.with_user(self.user_marketing_automation).action_send_sms()
        self.assertFalse(
            self.env["mailing.trace"].search([("mass_mailing_id", "=", self.mailing_email.id)])
        )
        # the form hides sending and the recipients of a template
        arch = self.env["mailing.mailing"].get_view(view_type="form")["arch"]
        for name in ("action_launch", "action_schedule", "action_test", "action_put_in_queue"):
            self.assertRegex(
                arch, rf'name="{name}"[^>]*invisible="[^"]*use_in_marketing_automation'
            )

    def test_template_titles_unique_and_bodies_required(self):
        campaign = self._create_campaign(name="Titles")
        self._create_activity(campaign, "email")
        twin = self._create_marketing_mailing("Welcome", "mail")
        with self.assertRaises(ValidationError):
            self._create_activity(campaign, "email", mass_mailing_id=twin.id)
        # the same template twice is the same title: allowed
        self._create_activity(campaign, "email", name="Again")
        empty = self._create_marketing_mailing("Empty", "mail")
        self._create_activity(campaign, "email", name="Empty one", mass_mailing_id=empty.id)
        # emptied once chosen (an empty one is refused when the activity is saved)
        empty.body_html = "<p><br></p>"
        with self.assertRaises(UserError) as caught:
            campaign.action_start_campaign()
        self.assertIn("Empty one", str(caught.exception))
        self.assertEqual(campaign.state, "draft")

    # ------------------------------------------------------------
    # 5. Filters that work both ways
    # ------------------------------------------------------------

    def test_include_archived_is_the_filter_switch(self):
        archived = self.env["res.partner"].create(
            {"name": "Contact archived", "email": "archived@example.com", "active": False}
        )
        domain = [("name", "=like", "Contact %")]
        campaign = self._create_campaign(name="Archived", domain=domain)
        Partner = self.env["res.partner"]
        self.assertFalse(campaign.include_archived)
        self.assertNotIn(archived, Partner.search(campaign._get_applied_domain()))
        # the switch of Odoo's filter editor writes this condition
        campaign.domain = "[('active', 'in', [True, False]), ('name', '=like', 'Contact %')]"
        self.assertTrue(campaign.include_archived)
        # the count next to the filter counts the archived record
        self.assertEqual(
            Partner.search_count(campaign._get_applied_domain()), len(self.contacts) + 1
        )
        campaign.include_archived = False
        self.assertEqual(campaign._get_applied_domain(), domain)
        campaign.include_archived = True
        self.assertIn(("active", "in", [True, False]), campaign._get_applied_domain())
        self._create_activity(campaign, "action")
        self._start(campaign)
        self.assertIn(archived.id, campaign.participant_ids.mapped("res_id"))

    def test_include_archived_of_a_computed_filter(self):
        """The switch writes the filter back only when it holds plain values:
        a date helper would be frozen at today's date."""
        domain = "[('create_date', '>=', context_today() - relativedelta(days=7))]"
        campaign = self._create_campaign(name="Computed")
        campaign.domain = domain
        with self.assertRaises(UserError) as caught:
            campaign.include_archived = True
        self.assertIn("is computed", str(caught.exception))
        self.assertEqual(campaign.domain, domain)
        self.assertFalse(campaign.include_archived)

    @users("user_marketing_automation")
    def test_favorite_filter_applied(self):
        favorite = self.env["marketing.favorite.filter"].create(
            {
                "name": "Belgians",
                "model_id": self.partner_model.id,
                "domain": "[('country_id.code', '=', 'BE')]",
            }
        )
        campaign = self._create_campaign(name="Favorite").with_env(self.env)
        with Form(campaign) as form:
            form.favorite_filter_id = favorite
            self.assertEqual(form.domain, favorite.domain)
            self.assertFalse(form.favorite_filter_id)
        self.assertEqual(campaign.domain, favorite.domain)
        activity = self._create_activity(campaign, "action").with_env(self.env)
        with Form(activity) as form:
            form.favorite_filter_id = favorite
        self.assertEqual(activity.domain, favorite.domain)
        # the Favorite Filters list shows the filter in words
        self.assertEqual(favorite.domain_description, "Country > Country Code = “BE”")
        favorite.sudo().domain = (
            "['|', ('email', '=', False), '&', ('is_company', '=', True), "
            "('name', 'ilike', 'shop')]"
        )
        self.assertEqual(
            favorite.domain_description,
            "(Email is not set or Is a Company = yes and Name contains “shop”)",
        )

    # ------------------------------------------------------------
    # 8. Server actions a user may pick
    # ------------------------------------------------------------

    def test_server_actions_per_group(self):
        user = self.user_marketing_automation
        manager = mail_new_test_user(
            self.env,
            login="reporting_manager",
            groups="base.group_user,base.group_partner_manager,"
            "marketing_automation_community.group_marketing_automation_manager",
        )
        vcard = self.env.ref(
            "base.action_partner_vcard_export", raise_if_not_found=False
        ) or self.env["ir.actions.server"].create(
            {
                "name": "Bound action",
                "model_id": self.partner_model.id,
                "state": "code",
                "code": "pass",
                "binding_model_id": self.partner_model.id,
            }
        )
        cron_action = self.env.ref(
            "marketing_automation_community.ir_cron_marketing_automation"
        ).ir_actions_server_id
        Action = self.env["ir.actions.server"]
        offered = Action.with_user(user).search([])
        self.assertIn(self.server_action, offered)
        self.assertNotIn(vcard, offered)
        self.assertNotIn(cron_action, offered)
        domain = self.env["marketing.activity"]._fields["server_action_id"].domain
        self.assertIn("binding_model_id", domain)
        values = {
            "name": "Tag",
            "model_id": self.partner_model.id,
            "state": "object_write",
            "update_path": "ref",
            "value": "x",
        }
        # as in Odoo, only Settings administrators create and edit server actions
        for marketer in (user, manager):
            with self.assertRaises(AccessError):
                Action.with_user(marketer).create(values)
            with self.assertRaises(AccessError):
                self.server_action.with_user(marketer).name = "Tag them"
            with self.assertRaises(AccessError):
                self.server_action.with_user(marketer).code = "record.unlink()"
        # Settings administrators keep every right
        self.server_action.with_user(self.user_admin).name = "Renamed by admin"
        self.assertEqual(self.server_action.name, "Renamed by admin")


@tagged("marketing_automation", "post_install", "-at_install")
class TestMetrics(MarketingAutomationCommon):
    """Per-activity statistics and campaign participant counts: real traces
    only, computed in batch."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.reachable = cls.contacts + cls.env["res.partner"].create(
            [
                {
                    "name": f"Contact extra {index}",
                    "email": f"extra.{index}@example.com",
                    "phone": f"+32457{index:06d}",
                    "country_id": cls.env.ref("base.be").id,
                }
                for index in range(2)
            ]
        )
        cls.unreachable = cls.env["res.partner"].create({"name": "Contact unreachable"})
        cls.targets = cls.reachable + cls.unreachable

    def _statistics(self, activity):
        activity.invalidate_recordset(self.STATISTICS)
        return dict(zip(self.STATISTICS, (activity[name] for name in self.STATISTICS), strict=True))

    def _participant_counts(self, campaign):
        return [campaign[name] for name in self.PARTICIPANT_COUNTS]

    def _send_queues(self):
        """Send the queued mails and SMS (inside the gateway mocks)."""
        self._send_queued_mails()
        self._send_queued_sms()

    def test_email_statistics(self):
        campaign = self._create_campaign(domain=[("id", "in", self.targets.ids)])
        email = self._create_activity(campaign, "email")
        filtered = self._create_activity(
            campaign, "action", domain=repr([("id", "!=", self.reachable[1].id)])
        )
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            self._run_campaign(campaign)
            # queued, not sent yet
            self.assertEqual(email.total_sent, 0)
            self._send_queued_mails()
            opened, clicked, replied, bounced, _ignored = (
                self._mailing_trace(trace) for trace in self._traces(email, self.reachable)
            )
            opened.set_opened()
            clicked.set_opened()
            clicked.set_clicked()
            replied.set_replied()
            bounced.set_bounced()
        self.assertTraceStates(self._traces(email, self.unreachable), "rejected")
        self.assertEqual(
            self._statistics(email),
            {
                "processed": 5,
                "rejected": 1,
                "total_sent": 5,
                "total_open": 3,
                "total_reply": 1,
                "total_click": 1,
                "total_bounce": 1,
            },
        )
        # the activity filter rejects; an action sends nothing
        self.assertEqual(
            self._statistics(filtered),
            {
                "processed": 5,
                "rejected": 1,
                "total_sent": 0,
                "total_open": 0,
                "total_reply": 0,
                "total_click": 0,
                "total_bounce": 0,
            },
        )

    def test_sms_statistics(self):
        campaign = self._create_campaign(domain=[("id", "in", self.targets.ids)])
        sms = self._create_activity(campaign, "sms")
        with freeze_time(self.reference_now), self.mockSMSGateway():
            self._run_campaign(campaign)
            self._send_queues()
            clicked, bounced, *_others = (
                self._mailing_trace(trace) for trace in self._traces(sms, self.reachable)
            )
            clicked.set_clicked()
            bounced.set_bounced()
        self.assertTraceStates(self._traces(sms, self.unreachable), "rejected")
        self.assertEqual(
            self._statistics(sms),
            {
                "processed": 5,
                "rejected": 1,
                "total_sent": 5,
                "total_open": 0,
                "total_reply": 0,
                "total_click": 1,
                "total_bounce": 1,
            },
        )

    def test_statistics_ignore_tests(self):
        campaign = self._create_campaign()
        email = self._create_activity(campaign, "email")
        sms = self._create_activity(campaign, "sms")
        with freeze_time(self.reference_now), self.mock_mail_gateway(), self.mockSMSGateway():
            self._run_campaign(campaign)
            self._send_queues()
            self._mailing_trace(self._traces(email, self.contacts[0])).set_opened()
            before = {activity: self._statistics(activity) for activity in email | sms}
            # a test on a participant's record, and one that is rejected
            tests = self._launch_test(campaign, self.contacts[0]) | self._launch_test(
                campaign, self.unreachable
            )
            tests.trace_ids.action_execute()
            self._send_queues()
            test_traces = tests.trace_ids.mailing_trace_ids
            test_traces.set_opened()
            test_traces.set_clicked()
            test_traces.set_replied()
            test_traces.set_bounced()
        self.assertEqual(
            sorted(tests.trace_ids.mapped("state")), ["processed"] * 2 + ["rejected"] * 2
        )
        self.assertEqual(len(test_traces), 2, "the rejected ones sent nothing")
        for activity in email | sms:
            self.assertEqual(self._statistics(activity), before[activity], activity.name)
        self.assertEqual(before[email]["processed"], len(self.contacts))
        self.assertEqual(before[email]["total_open"], 1)
        self.assertEqual(before[sms]["total_sent"], len(self.contacts))

    def test_participant_counts(self):
        """The participant counts of a campaign (running, completed, total,
        tests): test participants apart, a stopped participant completed, a
        deleted record's participant in the total only; computed for many
        campaigns at once without a query per campaign."""
        campaign = self._create_campaign()
        self._create_activity(campaign, "action")
        self._create_activity(campaign, "action", interval_number=1, interval_type="days")
        completed, running, deleted = self.contacts
        # campaigns of 1, 2 and 3 records, so that mixed up counts show
        others = self.env["marketing.campaign"].concat(
            *(
                self._create_campaign(
                    domain=[("id", "in", self.contacts[: 1 + index % 3].ids)],
                    name=f"Campaign {index}",
                )
                for index in range(6)
            )
        )
        for other in others:
            self._create_activity(other, "action", interval_number=1)
        with freeze_time(self.reference_now):
            tests = self._launch_test(campaign, running) | self._launch_test(campaign, completed)
            self.assertEqual(self._participant_counts(campaign), [0, 0, 0, 2], "tests only")
            self._run_campaign(campaign + others)
            self.assertEqual(self._participant_counts(campaign), [3, 0, 3, 2])
            self._participant(campaign, completed).action_set_completed()
            tests[1].action_set_completed()
            deleted.unlink()
            campaign.sync_participants()
        self.assertEqual(
            sorted(campaign.participant_ids.filtered(lambda p: not p.is_test).mapped("state")),
            ["completed", "running", "unlinked"],
        )
        self.assertEqual(tests.mapped("state"), ["running", "completed"])
        self.assertEqual(self._participant_counts(campaign), [1, 1, 3, 2])
        for index, other in enumerate(others):
            size = 1 + index % 3
            self.assertEqual(self._participant_counts(other), [size, 0, size, 0], other.name)

        campaigns = self.env["marketing.campaign"].browse((campaign + others).ids)
        self._count_queries(lambda: campaigns[:2].read(self.PARTICIPANT_COUNTS))  # warm-up
        self.assertEqual(
            self._count_queries(lambda: campaigns[:2].read(self.PARTICIPANT_COUNTS)),
            self._count_queries(lambda: campaigns.read(self.PARTICIPANT_COUNTS)),
            "participant counts must not query per campaign",
        )

    def test_metrics_computed_in_batch(self):
        # campaigns of 1, 2 and 3 records, so that mixed up results show
        campaigns = self.env["marketing.campaign"].concat(
            *(
                self._create_campaign(
                    domain=[("id", "in", self.contacts[: 1 + index % 3].ids)],
                    name=f"Campaign {index}",
                )
                for index in range(10)
            )
        )
        for campaign in campaigns:
            self._create_activity(campaign, "email")
            self._create_activity(campaign, "action", interval_number=1)
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            self._run_campaign(campaigns)
            self._send_queued_mails()
            campaigns.marketing_activity_ids.trace_ids.mailing_trace_ids.set_opened()
            self._launch_test(campaigns[0], self.contacts[0])

        # browsed by ids: their prefetching must not depend on the cache
        activities = self.env["marketing.activity"].browse(campaigns.marketing_activity_ids.ids)
        self._count_queries(lambda: activities[:2].read(self.STATISTICS))  # warm-up
        self.assertEqual(
            self._count_queries(lambda: activities[:2].read(self.STATISTICS)),
            self._count_queries(lambda: activities.read(self.STATISTICS)),
            "activity statistics must not query per activity",
        )
        for index, campaign in enumerate(campaigns):
            size = 1 + index % 3
            email, action = campaign.marketing_activity_ids.sorted("interval_standardized")
            self.assertEqual(
                (email.processed, email.total_sent, email.total_open), (size, size, size)
            )
            self.assertEqual((action.processed, action.rejected), (0, 0))
