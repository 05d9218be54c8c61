import re
from dataclasses import replace
from datetime import timedelta
from unittest import SkipTest
from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged, users
from odoo.tools import mail

from odoo.addons.mail.tests.common import mail_new_test_user

from ..models.marketing_campaign_blueprint import BLUEPRINTS
from .common import MarketingAutomationCommon

USER_GROUP = "marketing_automation_community.group_marketing_automation_user"


class BlueprintCase(MarketingAutomationCommon):
    """Helpers to create campaigns from blueprints (the template cards) and to
    follow their mails."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # a Marketing Automation user and nothing more (he cannot edit contacts)
        cls.user_marketing_plain = mail_new_test_user(
            cls.env,
            login="user_marketing_plain",
            name="Paul Plain",
            email="paul.plain@example.com",
            groups=f"base.group_user,{USER_GROUP}",
        )

    def _create_from_template(self, key):
        """Create the campaign of template ``key`` as the current user, as the
        card does; return it, checking the action that opens it."""
        action = self.env["marketing.campaign"].action_create_campaign_from_template(key)
        self.assertEqual(action["res_model"], "marketing.campaign")
        self.assertEqual(action["views"], [(False, "form")])
        campaign = self.env["marketing.campaign"].browse(action["res_id"])
        self.assertEqual(campaign.state, "draft")
        self.assertEqual(campaign.user_id, self.env.user)
        return campaign

    def _activity(self, campaign, name):
        activity = campaign.marketing_activity_ids.filtered(lambda a: a.name == name)
        self.assertEqual(len(activity), 1, name)
        return activity

    def _sent_email(self, email):
        """The email sent to ``email`` (through the mocked mail gateway)."""
        sent = [m for m in self._mails if any(email in to for to in m["email_to"])]
        self.assertEqual(len(sent), 1, f"one email sent to {email}")
        return sent[0]

    def _email_links(self, email):
        """The links of the email sent to ``email``, by label."""
        body = self._sent_email(email)["body"]
        return {
            label.strip(): url
            for _href, url, _dummy, label in re.findall(mail.HTML_TAG_URL_REGEX, body)
        }

    def _click(self, email, label):
        """Follow the tracked link ``label`` of the email sent to ``email`` (what
        ``/r/<code>/m/<trace_id>`` does before redirecting)."""
        code, trace_id = re.search(r"/r/(\w+)/m/(\d+)", self._email_links(email)[label]).groups()
        self.env["link.tracker.click"].sudo().add_click(
            code, ip="100.200.30.40", country_code="BE", mailing_trace_id=int(trace_id)
        )

    def _check_server_action(self, action):
        """A template's action needs no code editing, is kept for marketing users,
        and belongs to the module: its uninstall removes it (an external id that
        module updates keep)."""
        action = action.sudo()
        self.assertEqual(action.groups_id, self.env.ref(USER_GROUP))
        external_ids = (
            self.env["ir.model.data"]
            .sudo()
            .search([("model", "=", "ir.actions.server"), ("res_id", "in", action.ids)])
        )
        self.assertEqual(
            external_ids.mapped("module"), ["marketing_automation_community"] * len(action)
        )
        self.assertTrue(all(external_ids.mapped("noupdate")))
        if action.state == "code":
            self.assertRegex(action.code, r"^records\._marketing_\w+\(\)$")
        else:
            self.assertIn(action.state, ("object_write", "next_activity"))


@tagged("marketing_automation", "post_install", "-at_install")
class TestBlueprints(BlueprintCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        MailingContact = cls.env["mailing.contact"]
        cls.newsletter = cls.env["mailing.list"].create({"name": "Newsletter"})
        cls.other_list = cls.env["mailing.list"].create({"name": "Partners"})
        cls.subscriber_1 = MailingContact.create(
            {
                "name": "Subscriber 1",
                "email": "subscriber.1@example.com",
                "list_ids": [cls.newsletter.id],
            }
        )
        cls.subscriber_2 = MailingContact.create(
            {"name": "Subscriber 2", "email": "subscriber.2@example.com"}
        )
        cls.other_subscriber = MailingContact.create(
            {
                "name": "Other Subscriber",
                "email": "other.subscriber@example.com",
                "list_ids": [cls.other_list.id],
            }
        )
        cls.blacklisted_subscriber = MailingContact.create(
            {
                "name": "Blacklisted Subscriber",
                "email": "blacklisted.subscriber@example.com",
                "list_ids": [cls.newsletter.id],
            }
        )
        cls.env["mail.blacklist"].create({"email": "blacklisted.subscriber@example.com"})

    @users("user_marketing_automation")
    def test_templates_info(self):
        info = self.env["marketing.campaign"].get_campaign_templates_info()
        # the keys of the API (API.md), integrators create campaigns with them
        self.assertLessEqual(
            {
                "hot_contacts",
                "welcome",
                "double_opt_in",
                "commercial_prospection",
                "schedule_calls",
                "prioritize_hot_leads",
            },
            set(info),
        )
        self.assertEqual(info["double_opt_in"]["title"], "Double Opt-in")
        for key, template in info.items():
            with self.subTest(template=key):
                self.assertTrue(template["title"])
                self.assertTrue(template["description"])
                self.assertRegex(template["icon"], r"^fa-[a-z-]+$")
        for key in ("hot_contacts", "welcome", "double_opt_in"):
            self.assertTrue(info[key]["available"], key)
            self.assertFalse(info[key]["unavailable_reason"], key)

    @users("user_marketing_automation")
    def test_template_missing_app(self):
        """A template whose target model is not installed (CRM for leads) is
        shown disabled with the reason, and cannot be created."""
        missing_app = replace(BLUEPRINTS["schedule_calls"], model="crm.lead.not.installed")
        with patch.dict(BLUEPRINTS, {"schedule_calls": missing_app}):
            info = self.env["marketing.campaign"].get_campaign_templates_info()
            self.assertFalse(info["schedule_calls"]["available"])
            self.assertIn("Install CRM", info["schedule_calls"]["unavailable_reason"])
            with self.assertRaises(UserError):
                self.env["marketing.campaign"].action_create_campaign_from_template(
                    "schedule_calls"
                )

    @users("user_marketing_automation")
    def test_template_unknown(self):
        with self.assertRaises(UserError):
            self.env["marketing.campaign"].action_create_campaign_from_template("nope")

    @users("user_marketing_plain")
    def test_templates_plain_marketing_user(self):
        """A Marketing Automation user creates the templates whose records he
        may update; the others show why he cannot."""
        Campaign = self.env["marketing.campaign"]
        info = Campaign.get_campaign_templates_info()
        self.assertFalse(info["hot_contacts"]["available"])
        self.assertIn("Contact", info["hot_contacts"]["unavailable_reason"])
        with self.assertRaises(UserError):
            Campaign.action_create_campaign_from_template("hot_contacts")
        for key in ("welcome", "double_opt_in"):
            with self.subTest(template=key):
                self.assertTrue(info[key]["available"])
                campaign = self._create_from_template(key)
                self.assertEqual(campaign.model_name, "mailing.contact")
                # Welcome Flow's bounce step is its only server action; Double
                # Opt-in's list step is an activity of its own
                actions = campaign.marketing_activity_ids.server_action_id
                self.assertEqual(len(actions), 1 if key == "welcome" else 0)
                if actions:
                    self._check_server_action(actions)
                mailings = campaign.marketing_activity_ids.mass_mailing_id
                self.assertTrue(mailings)
                self.assertTrue(all(mailings.mapped("use_in_marketing_automation")))
                self.assertEqual(mailings.campaign_id, campaign.utm_campaign_id)

    @users("user_marketing_plain")
    def test_double_opt_in(self):
        """Contacts joining Newsletter get the confirmation an hour later;
        clicking its only link subscribes them to Confirmed contacts once, the
        unsubscribe link does not."""
        with freeze_time(self.reference_now) as frozen, self.mock_mail_gateway():
            campaign = self._create_from_template("double_opt_in")
            confirmed = self.env["mailing.list"].search([("name", "=", "Confirmed contacts")])
            self.assertEqual(len(confirmed), 1)
            # the list is created once and reused
            self._create_from_template("double_opt_in").unlink()
            self.assertEqual(
                self.env["mailing.list"].search_count([("name", "=", "Confirmed contacts")]), 1
            )

            self.assertEqual(campaign.name, "Double Opt-in")
            self.assertEqual(campaign.model_name, "mailing.contact")
            self.assertEqual(campaign.unique_field_id.name, "email")
            confirmation = self._activity(campaign, "Confirmation")
            add_to_list = self._activity(campaign, "Add to list")
            self.assertEqual(
                (confirmation.activity_type, confirmation.trigger_type),
                ("email", "begin"),
            )
            self.assertEqual(
                (confirmation.interval_number, confirmation.interval_type), (1, "hours")
            )
            self.assertEqual(add_to_list.parent_id, confirmation)
            self.assertEqual(
                (add_to_list.activity_type, add_to_list.trigger_type, add_to_list.interval_number),
                ("mailing_list", "mail_click", 0),
            )
            self.assertEqual(
                (add_to_list.mailing_list_operation, add_to_list.mailing_list_id),
                ("add", confirmed),
            )
            self.assertFalse(add_to_list.server_action_id)

            self._start(campaign)
            enrolled = set(campaign.participant_ids.mapped("res_id"))
            self.assertIn(self.subscriber_1.id, enrolled)
            self.assertNotIn(self.subscriber_2.id, enrolled, "not in Newsletter yet")
            self.assertNotIn(self.other_subscriber.id, enrolled, "not in Newsletter")
            self.assertNotIn(self.blacklisted_subscriber.id, enrolled)
            campaign.execute_activities()
            self.assertTraceStates(self._traces(confirmation), "scheduled")

            # subscriber 2 joins Newsletter half an hour later
            frozen.tick(timedelta(minutes=30))
            self.subscriber_2.list_ids = self.newsletter
            campaign.sync_participants()
            self.assertIn(self.subscriber_2.id, campaign.participant_ids.mapped("res_id"))

            # the confirmation leaves an hour after each entry
            frozen.tick(timedelta(minutes=30))
            campaign.execute_activities()
            self._send_queued_mails()
            self.assertTraceStates(self._traces(confirmation, self.subscriber_1), "processed")
            self.assertTraceStates(self._traces(confirmation, self.subscriber_2), "scheduled")
            self.assertFalse(
                [m for m in self._mails if any("subscriber.2@" in to for to in m["email_to"])]
            )
            frozen.tick(timedelta(minutes=30))
            campaign.execute_activities()
            self._send_queued_mails()
            self.assertTraceStates(self._traces(confirmation, self.subscriber_2), "processed")
            links = self._email_links(self.subscriber_1.email)
            tracked = [label for label, url in links.items() if "/r/" in url]
            self.assertEqual(tracked, ["Confirm my subscription"], "a single call to action")
            self.assertIn("/unsubscribe", links["Unsubscribe"])

            self._click(self.subscriber_1.email, "Confirm my subscription")
            frozen.tick(timedelta(minutes=1))
            campaign.execute_activities()
            self.assertTraceStates(self._traces(add_to_list, self.subscriber_1), "processed")
            self.assertIn(confirmed, self.subscriber_1.list_ids)
            # a second click changes nothing
            self._click(self.subscriber_1.email, "Confirm my subscription")
            campaign.execute_activities()
            self.assertEqual(
                self.env["mailing.subscription"].search_count(
                    [("contact_id", "=", self.subscriber_1.id), ("list_id", "=", confirmed.id)]
                ),
                1,
            )

            # the unsubscribe link is no tracked link: following it (which
            # blacklists the address) never confirms
            self.assertNotIn("/r/", self._email_links(self.subscriber_2.email)["Unsubscribe"])
            self.env["mail.blacklist"]._add(self.subscriber_2.email)
            frozen.tick(timedelta(hours=1))
            campaign.execute_activities()
            waiting = self._traces(add_to_list, self.subscriber_2)
            self.assertTraceStates(waiting, "scheduled")
            self.assertFalse(waiting.schedule_date)
            self.assertNotIn(confirmed, self.subscriber_2.list_ids)

    @users("user_marketing_plain")
    def test_welcome_flow(self):
        """Subscribers of any list get a welcome email; a bounce takes the
        address out (blacklisted)."""
        with freeze_time(self.reference_now) as frozen, self.mock_mail_gateway():
            campaign = self._create_from_template("welcome")
            welcome = self._activity(campaign, "Welcome")
            remove = self._activity(campaign, "Remove bounced address")
            self.assertEqual((remove.trigger_type, remove.parent_id), ("mail_bounce", welcome))
            self._check_server_action(remove.server_action_id)

            self._start(campaign)
            subscribers = self.subscriber_1 + self.other_subscriber
            enrolled = set(campaign.participant_ids.mapped("res_id"))
            self.assertTrue(set(subscribers.ids) <= enrolled)
            self.assertNotIn(self.subscriber_2.id, enrolled, "in no list")
            self.assertNotIn(self.blacklisted_subscriber.id, enrolled)
            frozen.tick(timedelta(hours=1))
            campaign.execute_activities()
            self._send_queued_mails()
            self.assertTraceStates(self._traces(welcome, subscribers), "processed")

            self._mailing_trace(self._traces(welcome, self.subscriber_1)).set_bounced()
            campaign.execute_activities()
            self.assertTraceStates(self._traces(remove, self.subscriber_1), "processed")
            self.assertTrue(self.subscriber_1.is_blacklisted)
            self.assertFalse(self.other_subscriber.is_blacklisted)
            self.assertTraceStates(self._traces(remove, self.other_subscriber), "scheduled")

    @users("user_marketing_automation")
    def test_hot_contacts(self):
        """Contacts get a welcome email; those who click in it are tagged Hot."""
        with freeze_time(self.reference_now) as frozen, self.mock_mail_gateway():
            campaign = self._create_from_template("hot_contacts")
            self.assertEqual(campaign.model_name, "res.partner")
            welcome = self._activity(campaign, "Welcome")
            tag = self._activity(campaign, "Tag as hot")
            self.assertEqual((tag.trigger_type, tag.parent_id), ("mail_click", welcome))
            hot = self.env["res.partner.category"].search([("name", "=", "Hot")])
            self.assertEqual(len(hot), 1)
            self.assertEqual(
                (tag.activity_type, tag.tag_operation, tag.tag_ids), ("tag", "add", hot)
            )
            self.assertFalse(tag.server_action_id)

            self._start(campaign)
            frozen.tick(timedelta(hours=1))
            campaign.execute_activities()
            self._send_queued_mails()
            self.assertTraceStates(self._traces(welcome, self.contacts), "processed")
            label = next(
                label
                for label, url in self._email_links(self.contacts[0].email).items()
                if "/r/" in url
            )
            self._click(self.contacts[0].email, label)
            campaign.execute_activities()
            self.assertTraceStates(self._traces(tag, self.contacts[0]), "processed")
            self.assertIn(hot, self.contacts[0].category_id)
            self.assertNotIn(hot, self.contacts[1].category_id)


@tagged("marketing_automation", "post_install", "-at_install")
class TestBlueprintsCrm(BlueprintCase):
    """The lead templates, with CRM installed next to the addon (the README's
    test command installs it as an optional companion)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if "crm.lead" not in cls.env:
            raise SkipTest("CRM is not installed")
        cls.user_sales_marketing = mail_new_test_user(
            cls.env,
            login="user_sales_marketing",
            name="Sam Sales",
            email="sam.sales@example.com",
            groups=f"base.group_user,sales_team.group_sale_salesman_all_leads,{USER_GROUP}",
        )
        cls.salesperson = mail_new_test_user(
            cls.env,
            login="salesperson",
            name="Sally Salesperson",
            email="sally@example.com",
            groups="base.group_user,sales_team.group_sale_salesman",
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "Existing Customer", "email": "customer@example.com"}
        )
        cls.lead_1, cls.lead_2 = cls.env["crm.lead"].create(
            [
                {
                    "name": f"Lead {index}",
                    "contact_name": f"Lead Contact {index}",
                    "email_from": f"lead.{index}@example.com",
                    "phone": f"+32456{index:06d}",
                    "country_id": cls.env.ref("base.be").id,
                    "user_id": cls.salesperson.id,
                    "type": "lead",
                    "priority": "0",
                }
                for index in (1, 2)
            ]
        )
        cls.lead_customer = cls.env["crm.lead"].create(
            {
                "name": "Request of an existing customer",
                "partner_id": cls.customer.id,
                "user_id": cls.salesperson.id,
            }
        )
        # the lead blueprints take the leads created since yesterday: the
        # test's leads are an hour old at reference_now, the others a month
        cls._set_lead_dates(cls.env["crm.lead"].search([]), cls.reference_now - timedelta(days=30))
        cls._set_lead_dates(
            cls.lead_1 + cls.lead_2 + cls.lead_customer, cls.reference_now - timedelta(hours=1)
        )

    @classmethod
    def _set_lead_dates(cls, leads, create_date):
        cls.env.flush_all()
        cls.env.cr.execute(
            "UPDATE crm_lead SET create_date = %s WHERE id IN %s", (create_date, tuple(leads.ids))
        )
        leads.invalidate_recordset(["create_date"])

    @users("user_sales_marketing")
    def test_lead_templates_available(self):
        info = self.env["marketing.campaign"].get_campaign_templates_info()
        for key in ("commercial_prospection", "schedule_calls", "prioritize_hot_leads"):
            self.assertTrue(info[key]["available"], key)
            self.assertEqual(info[key]["model"], "crm.lead")

    @users("user_marketing_plain")
    def test_lead_templates_need_crm_rights(self):
        info = self.env["marketing.campaign"].get_campaign_templates_info()
        for key in ("commercial_prospection", "schedule_calls", "prioritize_hot_leads"):
            self.assertFalse(info[key]["available"], key)
            self.assertIn("Lead", info[key]["unavailable_reason"])

    def _check_call_step(self, activity, summary):
        """A call planned for the lead's salesperson the next day, without code."""
        self.assertEqual(
            (
                activity.activity_type,
                activity.plan_activity_type_id,
                activity.plan_summary,
                activity.plan_deadline_days,
                activity.plan_user_type,
            ),
            (
                "plan_activity",
                self.env.ref("mail.mail_activity_data_call"),
                summary,
                1,
                "salesperson",
            ),
        )
        self.assertFalse(activity.server_action_id)

    def _call_activities(self, lead):
        return lead.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("mail.mail_activity_data_call")
        )

    @users("user_sales_marketing")
    def test_commercial_prospection(self):
        """The catalog goes out; a click plans a call for the salesperson,
        those who did not open it get an SMS reminder three days later."""
        with (
            freeze_time(self.reference_now) as frozen,
            self.mock_mail_gateway(),
            self.mockSMSGateway(),
        ):
            campaign = self._create_from_template("commercial_prospection")
            catalog = self._activity(campaign, "Free catalog")
            follow_up = self._activity(campaign, "Follow up")
            reminder = self._activity(campaign, "Catalog reminder")
            self.assertEqual(follow_up.trigger_type, "mail_click")
            self.assertEqual(
                (reminder.activity_type, reminder.trigger_type), ("sms", "mail_not_open")
            )
            self._check_call_step(follow_up, "Follow up: the catalog interested them")
            leads = self.lead_1 + self.lead_2

            self._start(campaign)
            frozen.tick(timedelta(hours=1))
            campaign.execute_activities()
            self._send_queued_mails()
            self.assertTraceStates(self._traces(catalog, leads), "processed")
            self._click(self.lead_1.email_from, "Get the free catalog")
            campaign.execute_activities()
            self.assertTraceStates(self._traces(follow_up, self.lead_1), "processed")
            call = self._call_activities(self.lead_1)
            self.assertEqual(len(call), 1)
            self.assertEqual(call.user_id, self.salesperson)
            self.assertFalse(self._call_activities(self.lead_2))

            frozen.tick(timedelta(days=3))
            campaign.execute_activities()
            self.assertTraceStates(self._traces(reminder, self.lead_1), "canceled")
            self.assertTraceStates(self._traces(reminder, self.lead_2), "processed")
            self._send_queued_sms()
            self.assertSMSIapSent([self.lead_2.phone_sanitized])

    @users("user_sales_marketing")
    def test_schedule_calls(self):
        """A lead of an existing contact gets a call planned with its salesperson."""
        with freeze_time(self.reference_now):
            campaign = self._create_from_template("schedule_calls")
            schedule = self._activity(campaign, "Schedule a call")
            self._check_call_step(schedule, "Call about their new request")
            self._run_campaign(campaign)
            self.assertEqual(campaign.participant_ids.mapped("res_id"), self.lead_customer.ids)
            self.assertTraceStates(self._traces(schedule), "processed")
            call = self._call_activities(self.lead_customer)
            self.assertEqual(len(call), 1)
            self.assertEqual(call.user_id, self.salesperson)

    @users("user_sales_marketing")
    def test_schedule_calls_filter(self):
        """Schedule Calls reads as words, takes the leads created since
        yesterday whenever it enrols (no date frozen when it was created), and
        plans one call per customer however many requests he sends."""
        # sudo: an old request of the customer, and a second new one
        old_request, second_request = (
            self.env["crm.lead"]
            .sudo()
            .create(
                [
                    {"name": name, "partner_id": self.customer.id, "user_id": self.salesperson.id}
                    for name in ("Old request", "Second request")
                ]
            )
        )
        self._set_lead_dates(old_request, self.reference_now - timedelta(days=3))
        self._set_lead_dates(second_request, self.reference_now - timedelta(minutes=30))
        with freeze_time(self.reference_now - timedelta(days=30)):
            campaign = self._create_from_template("schedule_calls")
        self.assertNotIn("2024", campaign.domain)
        self.assertEqual(campaign.unique_field_id.name, "partner_id")
        with freeze_time(self.reference_now):
            self.assertEqual(
                campaign._describe_domain(campaign.domain),
                "Customer is set and Salesperson is set and Created on ≥ “2024-11-24”",
            )
            self._run_campaign(campaign)
        self.assertEqual(campaign.participant_ids.mapped("res_id"), self.lead_customer.ids)
        self.assertEqual(len(self._call_activities(self.lead_customer)), 1)
        self.assertFalse(self._call_activities(old_request + second_request))

    @users("user_sales_marketing")
    def test_prioritize_hot_leads(self):
        """New leads get an email; those who open it get a high priority."""
        with freeze_time(self.reference_now) as frozen, self.mock_mail_gateway():
            campaign = self._create_from_template("prioritize_hot_leads")
            email = self._activity(campaign, "Thank you for your interest")
            priority = self._activity(campaign, "Set priority high")
            self.assertEqual((priority.trigger_type, priority.parent_id), ("mail_open", email))
            self.assertEqual(
                (priority.activity_type, priority.set_field_id.name, priority.set_field_value),
                ("set_field", "priority", "2"),
            )
            self.assertFalse(priority.server_action_id)
            leads = self.lead_1 + self.lead_2

            self._start(campaign)
            frozen.tick(timedelta(hours=1))
            campaign.execute_activities()
            self._send_queued_mails()
            self.assertTraceStates(self._traces(email, leads), "processed")
            self._mailing_trace(self._traces(email, self.lead_1)).set_opened()
            campaign.execute_activities()
            self.assertEqual(self.lead_1.priority, "2")
            self.assertEqual(self.lead_2.priority, "0")
