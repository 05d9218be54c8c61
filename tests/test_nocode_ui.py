from datetime import timedelta
from unittest.mock import patch

from odoo import fields, http
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from odoo.addons.base.models.ir_mail_server import IrMailServer, MailDeliveryException
from odoo.addons.mail.tests.common import mail_new_test_user

from .common import MarketingAutomationCommon, PhoneMixin

ACTION = "/odoo/action-marketing_automation_community.marketing_campaign_action"


class NoCodeUiMixin:
    """A marketing user (only the Marketing Automation user group, and the
    contacts') builds campaigns of steps without code in the workflow's
    activity dialog, and reads the test screen after the mail queue failed a
    test email. Run at the sizes of the classes below."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # see test_ui: build the static paths before the browser's parallel requests
        if "marketing_automation_community" not in http.root.statics:
            raise AssertionError("The addon's static folder (tours) is not served.")
        cls.tag = cls.env["res.partner.category"].create({"name": "Tour hot lead"})
        cls.assignee = mail_new_test_user(
            cls.env, login="tour_assignee", name="Arthur Assignee", groups="base.group_user"
        )
        cls.mailing_list = cls.env["mailing.list"].create({"name": "Tour list"})
        cls.subscriber = cls.env["mailing.contact"].create(
            {"name": "Tour Subscriber", "email": "tour.subscriber@example.com"}
        )

    def _run_test_as_marketing_user(self, campaign, record):
        """Launch a test of ``campaign`` on ``record`` as the marketing user and
        run all its steps at once: return the test participant."""
        env = self.env(user=self.user_marketing_automation)
        action = (
            env["marketing.campaign.test"]
            .create({"campaign_id": campaign.id, "res_id": record.id})
            .action_launch_test()
        )
        participant = env["marketing.participant"].browse(action["res_id"])
        participant.trace_ids.action_execute()
        return participant

    def test_build_nocode_steps_on_contacts(self):
        """Tag, plan an activity, log a note and update a field: the steps are
        saved as the dialog set them and, tested on a contact, change it with
        the marketing user's rights."""
        self.start_tour(
            f"{ACTION}/new",
            "marketing_automation_nocode_contacts_tour",
            login="user_marketing_automation",
        )
        campaign = self.env["marketing.campaign"].search([("name", "=", "No-code Contacts")])
        self.assertEqual(campaign.model_name, "res.partner")
        self.assertEqual(campaign.user_id, self.user_marketing_automation)
        steps = {activity.name: activity for activity in campaign.marketing_activity_ids}
        self.assertEqual(set(steps), {"Tag hot", "Call them", "Log interest", "Mark VIP"})
        tag, call, note, vip = (
            steps[name] for name in ("Tag hot", "Call them", "Log interest", "Mark VIP")
        )
        self.assertEqual(
            (tag.activity_type, tag.tag_operation, tag.tag_ids), ("tag", "add", self.tag)
        )
        self.assertEqual(
            (
                call.activity_type,
                call.plan_activity_type_id,
                call.plan_summary,
                call.plan_deadline_days,
                call.plan_user_type,
                call.plan_user_id,
            ),
            (
                "plan_activity",
                self.env.ref("mail.mail_activity_data_call"),
                "Discuss the offer",
                2,
                "user",
                self.assignee,
            ),
        )
        self.assertEqual(
            (note.activity_type, note.note_body), ("note", "Interested in <b>our</b> offer")
        )
        self.assertEqual(
            (vip.activity_type, vip.set_field_id.name, vip.set_field_value),
            ("set_field", "function", "VIP"),
        )
        self.assertFalse(campaign.marketing_activity_ids.parent_id, "all steps at the root")

        contact = self.contacts[0]
        participant = self._run_test_as_marketing_user(campaign, contact)
        self.assertTraceStates(participant.trace_ids, "processed")
        self.assertEqual(len(participant.trace_ids), 4)
        self.assertIn(self.tag, contact.category_id)
        planned = contact.activity_ids
        self.assertEqual(len(planned), 1)
        self.assertEqual(
            (planned.activity_type_id, planned.summary, planned.user_id, planned.date_deadline),
            (
                self.env.ref("mail.mail_activity_data_call"),
                "Discuss the offer",
                self.assignee,
                fields.Date.context_today(contact) + timedelta(days=2),
            ),
        )
        logged = contact.message_ids.filtered(lambda m: "Interested in" in m.body)
        self.assertEqual(len(logged), 1)
        self.assertEqual(logged.subtype_id, self.env.ref("mail.mt_note"))
        self.assertEqual(logged.author_id, self.user_marketing_automation.partner_id)
        self.assertIn("Interested in &lt;b&gt;our&lt;/b&gt; offer", logged.body)
        self.assertEqual(contact.function, "VIP")

    def test_build_mailing_list_step(self):
        """Add to a mailing list (a step for mailing contacts): saved as set,
        and the tested mailing contact is on the list."""
        self.start_tour(
            f"{ACTION}/new",
            "marketing_automation_nocode_list_tour",
            login="user_marketing_automation",
        )
        campaign = self.env["marketing.campaign"].search([("name", "=", "No-code Subscribers")])
        self.assertEqual(campaign.model_name, "mailing.contact")
        step = campaign.marketing_activity_ids
        self.assertEqual(
            (step.name, step.activity_type, step.mailing_list_operation, step.mailing_list_id),
            ("Subscribe", "mailing_list", "add", self.mailing_list),
        )
        self.assertNotIn(self.mailing_list, self.subscriber.list_ids)
        participant = self._run_test_as_marketing_user(campaign, self.subscriber)
        self.assertTraceStates(participant.trace_ids, "processed")
        self.assertIn(self.mailing_list, self.subscriber.list_ids)

    @mute_logger("odoo.addons.mail.models.mail_mail", "odoo.http")
    def test_test_screen_after_a_failed_mail(self):
        """The mail queue fails the test email while the test screen shows its
        child waiting with Run: the Run is refused saying why, and the screen
        shows the failed email and the canceled child, without Run."""
        recipient = self.env["res.partner"].create(
            {"name": "Tour Recipient", "email": "tour.recipient@example.com"}
        )
        campaign = self._create_campaign(domain=[("id", "=", recipient.id)], name="Failing Tour")
        email = self._create_activity(campaign, "email", name="Welcome")
        opened = self._create_activity(
            campaign, "action", parent=email, trigger_type="mail_open", name="Thank the reader"
        )
        trace_class = self.registry["marketing.trace"]
        action_execute = trace_class.action_execute

        def action_execute_after_queue(traces):
            # the mail queue runs, in its own transaction, between the screen's last
            # reading and the click
            traces.env["mail.mail"].sudo().search([("state", "=", "outgoing")]).send()
            traces.env.cr.commit()
            return action_execute(traces)

        with (
            self.mock_mail_gateway(),
            patch.object(
                IrMailServer, "send_email", side_effect=MailDeliveryException("Connection refused")
            ),
            patch.object(trace_class, "action_execute", action_execute_after_queue),
        ):
            self.start_tour(
                f"{ACTION}/{campaign.id}",
                "marketing_automation_failed_mail_tour",
                login="user_marketing_automation",
            )
        participant = campaign.participant_ids
        self.assertTrue(participant.is_test)
        self.assertEqual(participant.res_id, recipient.id)
        self.assertTraceStates(email.trace_ids, "error", "Not delivered")
        self.assertTraceStates(opened.trace_ids, "canceled", "not delivered")
        self.assertEqual(self._mailing_trace(email.trace_ids).trace_status, "error")


@tagged("marketing_automation", "post_install", "-at_install")
class TestNoCodeDesktopUi(NoCodeUiMixin, MarketingAutomationCommon, HttpCase):
    browser_size = "1440x900"


@tagged("marketing_automation", "post_install", "-at_install")
class TestNoCodePhoneUi(PhoneMixin, NoCodeUiMixin, MarketingAutomationCommon, HttpCase):
    """At a phone's size, with touch."""
