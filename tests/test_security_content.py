from contextlib import contextmanager

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger
from odoo.tools.safe_eval import safe_eval

from odoo.addons.mail.tests.common import mail_new_test_user

from ..tools.campaign_batch import CAMPAIGN_BATCH_KEY, CampaignBatch
from .common import MarketingAutomationCommon

TRACE_LOGGER = "odoo.addons.marketing_automation_community.models.marketing_trace"
ESCALATION = (
    "<p>Hello</p><t t-set='x' t-value=\"object.env['res.users'].sudo().browse({uid})"
    ".write({{'groups_id': [(4, {group})]}})\"/>"
)


@tagged("marketing_automation", "post_install", "-at_install")
class TestSecurityContent(MarketingAutomationCommon):
    """A campaign's content (its templates) is part of its workflow (issue
    #15, items 2, 11 and 12): whoever changes what a template sends becomes the
    responsible of its campaign or is refused, a template is sent by its
    campaign only, and a copied campaign gets its own templates."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Odoo's default, which Odoo's mail tests turn off: only Settings
        # administrators (Mail Template Editors) write code in templates
        cls.env["ir.config_parameter"].set_param("mail.restrict.template.rendering", True)
        cls.user_marketing_automation.write(
            {
                "company_id": cls.company_admin.id,
                "company_ids": [(6, 0, cls.company_admin.ids)],
            }
        )
        cls.user_mass_mailing = mail_new_test_user(
            cls.env,
            login="content_mass_mailing",
            name="Mathis Mailing",
            groups="base.group_user,mass_mailing.group_mass_mailing_user",
        )
        cls.user_marketing_b = mail_new_test_user(
            cls.env,
            login="content_marketing_b",
            name="Bruno CompanyB",
            groups="base.group_user,base.group_partner_manager,"
            "marketing_automation_community.group_marketing_automation_user",
            company_id=cls.company_2.id,
            company_ids=[(6, 0, cls.company_2.ids)],
        )
        cls.group_system = cls.env.ref("base.group_system")

    @contextmanager
    def assertRaisesText(self, exception, text):
        """``assertRaises`` (which rolls the failed operation back) with a
        message that contains ``text``."""
        with self.assertRaises(exception) as caught:
            yield
        self.assertIn(text, str(caught.exception))

    def _admin_campaign(self, activity_type="email"):
        """A running campaign of the administrator sending a template."""
        campaign = self._create_campaign(name="Admin's", user_id=self.user_admin.id)
        campaign = campaign.with_user(self.user_admin)
        activity = self._create_activity(campaign, activity_type)
        self.assertEqual(campaign.user_id, self.user_admin)
        # made before: what happens next is tracked
        self.flush_tracking()
        return campaign, activity

    # ------------------------------------------------------------
    # 2. Mail content of someone else's campaign
    # ------------------------------------------------------------

    def test_template_body_cannot_run_as_the_responsible(self):
        """The attack: a marketing user writes code into the body of the
        administrator's running campaign. He becomes its responsible, so the
        scheduler renders it with his rights: Odoo refuses the code (he is not
        a Mail Template Editor), the traces end in error, nothing is sent."""
        user = self.user_marketing_automation
        campaign, activity = self._admin_campaign()
        campaign.action_start_campaign()
        body = ESCALATION.format(uid=user.id, group=self.group_system.id)
        self.mailing_email.with_user(user).write({"body_arch": body, "body_html": body})
        self.assertEqual(campaign.user_id, user)
        self.flush_tracking()
        tracking = self.env["mail.tracking.value"].search(
            [
                ("mail_message_id.model", "=", "marketing.campaign"),
                ("mail_message_id.res_id", "=", campaign.id),
                ("field_id.name", "=", "user_id"),
            ]
        )
        self.assertEqual(tracking.mapped("new_value_integer"), [user.id])

        # Odoo 18.0 leaves its restricted-rendering option in the composer's
        # shared render options after a refusal: later renders of the process
        # would fail with "not supported as options"
        body_options = self.env["mail.compose.message"]._fields["body"].render_options
        self.addCleanup(body_options.pop, "raise_on_forbidden_code_for_model", None)
        with mute_logger(TRACE_LOGGER), self.mock_mail_gateway():
            self._run_cron()
            self._send_queued_mails()
        user.invalidate_recordset(["groups_id"])
        self.assertFalse(self.group_system & user.groups_id)
        self.assertTraceStates(self._traces(activity), "error")
        self.assertFalse(self._new_mails)

    def test_template_editor_who_cannot_be_responsible_is_refused(self):
        """A plain Email Marketing user, or a marketing user of another
        company, cannot become responsible: he cannot change the template."""
        campaign, activity = self._admin_campaign()
        body_before = self.mailing_email.body_html
        for user in (self.user_mass_mailing, self.user_marketing_b):
            for values in (
                {"body_html": "<p>Mine</p>", "body_arch": "<p>Mine</p>"},
                {"subject": "Mine"},
                {"email_from": "attacker@example.com"},
            ):
                with self.subTest(user=user.login, fields=list(values)):
                    with self.assertRaisesText(AccessError, "becomes its responsible"):
                        self.mailing_email.with_user(user).write(values)
        self.assertEqual(self.mailing_email.body_html, body_before)
        self.assertEqual(self.mailing_email.subject, "Welcome")
        self.assertEqual(campaign.user_id, self.user_admin)
        # a template that no campaign uses stays theirs to edit
        self.mailing_email_followup.with_user(self.user_mass_mailing).subject = "Free"
        self.assertEqual(activity.mass_mailing_id, self.mailing_email)

    def test_unchanged_content_still_transfers_responsibility(self):
        """Writing a template's current subject is a change of its content;
        writing what decides nothing (its color) is not."""
        user = self.user_marketing_automation
        campaign, _activity = self._admin_campaign()
        self.mailing_email.with_user(user).color = 3
        self.assertEqual(campaign.user_id, self.user_admin)
        self.mailing_email.with_user(user).write({"subject": self.mailing_email.subject})
        self.assertEqual(campaign.user_id, user)

    def test_sms_text_editor_becomes_responsible(self):
        user = self.user_marketing_automation
        campaign, activity = self._admin_campaign("sms")
        activity.with_user(user).sms_body = "New text: https://www.example.com"
        self.assertEqual(campaign.user_id, user)
        self.assertEqual(self.mailing_sms.body_plaintext, "New text: https://www.example.com")
        campaign.user_id = self.user_admin
        self.mailing_sms.with_user(user).body_plaintext = "Other text"
        self.assertEqual(campaign.user_id, user)

    def test_engine_writes_keep_the_responsible(self):
        """The scheduler's sends (and Odoo's bookkeeping on the template) leave
        the responsible as it is."""
        campaign, activity = self._admin_campaign()
        campaign.action_start_campaign()
        with self.mock_mail_gateway():
            self._run_cron()
        self.assertTraceStates(self._traces(activity), "processed")
        self.assertEqual(len(self._new_mails), 3)
        self.assertEqual(campaign.user_id, self.user_admin)

    # ------------------------------------------------------------
    # 11. A template is sent by its campaign only
    # ------------------------------------------------------------

    def test_template_sent_only_by_its_campaign(self):
        campaign, activity = self._admin_campaign("sms")
        email_campaign = self._create_campaign(name="Email", user_id=self.user_admin.id)
        self._create_activity(email_campaign.with_user(self.user_admin), "email")
        (campaign + email_campaign).action_start_campaign()
        campaign.sync_participants()
        scheduled = self._traces(activity, self.contacts)
        with self.mockSMSGateway(), self.mock_mail_gateway():
            for user in (self.user_marketing_automation, self.user_mass_mailing):
                sms = self.mailing_sms.with_user(user)
                email = self.mailing_email.with_user(user)
                forged = {trace.res_id: trace.id for trace in scheduled}
                for name, send in (
                    ("sms", lambda sms=sms: sms.action_send_sms(res_ids=self.contacts.ids)),
                    ("sms whole model", lambda sms=sms: sms.action_send_sms()),
                    (
                        "sms forged context",
                        lambda sms=sms, forged=forged: sms.with_context(
                            marketing_trace_by_res_id=forged
                        ).action_send_sms(res_ids=self.contacts.ids),
                    ),
                    (
                        "email",
                        lambda email=email: email.action_send_mail(res_ids=self.contacts.ids),
                    ),
                    ("email launch", lambda email=email: email.action_launch()),
                ):
                    with self.subTest(user=user.login, send=name):
                        with self.assertRaisesText(UserError, "sent by their campaign"):
                            send()
                with self.subTest(user=user.login, send="queue"):
                    with self.assertRaises(ValidationError):
                        email.write({"state": "in_queue"})
            self.assertFalse(self._new_sms)
            self.assertFalse(self._new_mails)

            # the campaign sends; its processed traces cannot be sent again
            campaign.execute_activities()
            self.assertTraceStates(scheduled, "processed")
            self.assertEqual(len(self._new_sms), 3)
            # even the engine's own switch (code, not a remote call) sends a batch once
            sent = CampaignBatch((trace.res_id, trace.id) for trace in scheduled)
            with self.assertRaisesText(UserError, "sent by their campaign"):
                self.mailing_sms.with_user(self.user_marketing_automation).with_context(
                    **{CAMPAIGN_BATCH_KEY: sent}
                ).action_send_sms(res_ids=self.contacts.ids)
        self.assertEqual(len(self._new_sms), 3)
        self.assertEqual(len(self.mailing_sms.mailing_trace_ids), 3)

    def test_campaign_switch_cannot_be_forged(self):
        """The attack: a mailing user sends his own SMS mailing, or creates a
        message, with the engine's context key naming the traces of the
        administrator's campaign, to link his messages to them (their events
        would then count, and the campaign's own send would be refused)."""
        campaign, activity = self._admin_campaign("sms")
        campaign.action_start_campaign()
        campaign.sync_participants()
        scheduled = self._traces(activity, self.contacts)
        forged = {CAMPAIGN_BATCH_KEY: {trace.res_id: trace.id for trace in scheduled}}
        own = (
            self.env["mailing.mailing"]
            .with_user(self.user_mass_mailing)
            .create(
                {
                    "subject": "Mine",
                    "mailing_type": "sms",
                    "body_plaintext": "My own SMS",
                    "mailing_model_id": self.env["ir.model"]._get("res.partner").id,
                    "mailing_domain": repr([("id", "in", self.contacts.ids)]),
                }
            )
        )
        MailingTrace = self.env["mailing.trace"].with_user(self.user_mass_mailing)
        with self.mockSMSGateway():
            own.with_context(**forged).action_send_sms(res_ids=self.contacts.ids)
            MailingTrace.with_context(**forged).create(
                {
                    "trace_type": "sms",
                    "model": "res.partner",
                    "res_id": self.contacts[0].id,
                    "mass_mailing_id": activity.mass_mailing_id.id,
                }
            )
        self.assertEqual(len(own.mailing_trace_ids), len(self.contacts))
        self.assertFalse(
            self.env["mailing.trace"].search([("marketing_trace_id", "in", scheduled.ids)])
        )
        # the campaign sends its SMS as usual
        with self.mockSMSGateway():
            campaign.execute_activities()
        self.assertTraceStates(scheduled, "processed")
        self.assertEqual(scheduled.mailing_trace_ids.mass_mailing_id, activity.mass_mailing_id)

    def test_template_in_use_stays_template(self):
        _campaign, activity = self._admin_campaign()
        for user in (self.user_marketing_automation, self.user_admin):
            with self.subTest(user=user.login):
                with self.assertRaisesText(ValidationError, activity.name):
                    self.mailing_email.with_user(user).use_in_marketing_automation = False
        self.assertTrue(self.mailing_email.use_in_marketing_automation)

    # ------------------------------------------------------------
    # 12. A campaign's templates are its own
    # ------------------------------------------------------------

    def test_campaign_copy_has_its_own_templates(self):
        user = self.user_marketing_automation
        campaign, email = self._admin_campaign()
        sms = self._create_activity(campaign, "sms", parent=email)
        action = self._create_activity(campaign, "action", parent=email)
        # two steps of a campaign may send the same template: the copy shares one copy
        self._create_activity(campaign, "sms", parent=action, name="Reminder")
        campaign.action_start_campaign()
        copy = campaign.with_user(user).copy()
        self.assertEqual(copy.user_id, user)
        copies = copy.marketing_activity_ids.filtered(lambda a: a.name != "Reminder")
        by_type = {activity.activity_type: activity for activity in copies}
        self.assertEqual(len(copy.marketing_activity_ids.mass_mailing_id), 2)
        for original in (email, sms):
            new = by_type[original.activity_type]
            with self.subTest(activity=original.activity_type):
                self.assertNotEqual(new.mass_mailing_id, original.mass_mailing_id)
                self.assertTrue(new.mass_mailing_id.use_in_marketing_automation)
                self.assertEqual(new.mass_mailing_id.subject, original.mass_mailing_id.subject)
                self.assertEqual(new.mass_mailing_id.campaign_id, copy.utm_campaign_id)
        self.assertEqual(by_type["email"].mass_mailing_id.body_html, self.mailing_email.body_html)
        self.assertEqual(by_type["sms"].sms_body, self.mailing_sms.body_plaintext)
        # server actions are shared: only Settings administrators edit them
        self.assertEqual(by_type["action"].server_action_id, action.server_action_id)

        # editing the copy's content leaves the running original alone
        by_type["email"].mass_mailing_id.with_user(user).body_html = "<p>Copy only</p>"
        by_type["sms"].with_user(user).sms_body = "Copy only"
        self.assertIn("Welcome", self.mailing_email.body_html)
        self.assertIn("Welcome SMS", self.mailing_sms.body_plaintext)
        self.assertEqual(campaign.user_id, self.user_admin)

        # an activity copied inside its campaign gets a copy under a new title
        twin = email.with_user(self.user_admin).copy()
        self.assertNotEqual(twin.mass_mailing_id, self.mailing_email)
        self.assertEqual(twin.mass_mailing_id.subject, "Welcome (copy)")

    def test_template_belongs_to_one_campaign(self):
        campaign, _activity = self._admin_campaign()
        other = self._create_campaign(name="Other")
        Activity = self.env["marketing.activity"].with_user(self.user_marketing_automation)
        values = {
            "name": "Borrowed",
            "campaign_id": other.id,
            "activity_type": "email",
            "mass_mailing_id": self.mailing_email.id,
        }
        with self.assertRaisesText(ValidationError, "another campaign"):
            Activity.create(values)
        regular = self.env["mailing.mailing"].create(
            {
                "subject": "Newsletter",
                "mailing_model_id": self.partner_model.id,
                "body_html": "<p>News</p>",
            }
        )
        with self.assertRaisesText(ValidationError, "not a campaign template"):
            Activity.create(dict(values, mass_mailing_id=regular.id))

        # the activity dialog offers this campaign's templates and unused ones
        field = Activity._fields["mass_mailing_id"]
        candidates = self.mailing_email + self.mailing_email_followup
        for target, expected in (
            (other, self.mailing_email_followup),
            (campaign, candidates),
        ):
            domain = safe_eval(
                field.domain,
                {
                    "mass_mailing_id_mailing_type": "mail",
                    "model_name": "res.partner",
                    "campaign_id": target.id,
                },
            )
            offered = self.env["mailing.mailing"].search(domain) & candidates
            with self.subTest(campaign=target.name):
                self.assertEqual(offered, expected)

    def test_deleted_activity_template_does_not_linger(self):
        """A template no activity uses after a deletion is deleted when it
        never sent anything, archived (with its statistics) when it did."""
        admin = self.user_admin
        campaign, email = self._admin_campaign()
        followup = self._create_activity(
            campaign, "email", parent=email, mass_mailing_id=self.mailing_email_followup.id
        )
        sms = self._create_activity(campaign, "sms", parent=email, trigger_type="mail_open")
        followup.with_user(admin).unlink()
        self.assertFalse(self.mailing_email_followup.exists())

        with self.mock_mail_gateway():
            self._run_campaign(campaign)
        self.assertTrue(self.mailing_email.mailing_trace_ids)
        campaign.action_stop_campaign()
        # the root goes, with its child (cascade): both templates are dropped
        email.with_user(admin).unlink()
        self.assertFalse(sms.exists())
        self.assertFalse(self.mailing_sms.exists())
        self.assertFalse(self.mailing_email.active)

    def test_deleted_campaign_templates_do_not_linger(self):
        campaign, _email = self._admin_campaign()
        self._create_activity(campaign, "sms")
        campaign.with_user(self.user_admin).unlink()
        self.assertFalse((self.mailing_email + self.mailing_sms).exists())
        self.assertTrue(self.mailing_email_followup.exists())
