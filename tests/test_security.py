from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import tagged, users
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import MarketingAutomationCommon

MARKETING_MODELS = (
    "marketing.campaign",
    "marketing.activity",
    "marketing.participant",
    "marketing.trace",
)


@tagged("marketing_automation", "post_install", "-at_install")
class TestSecurity(MarketingAutomationCommon):
    """Access rights of the User and Manager groups, multi-company record
    rules, and enrolment through the rights of the campaign's responsible."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.company_admin
        cls.company_b = cls.company_2
        cls.user_employee_no_ma = mail_new_test_user(
            cls.env,
            login="employee_no_ma",
            name="Ernestine NoMarketing",
            groups="base.group_user",
            company_id=cls.company_a.id,
            company_ids=[(6, 0, cls.company_a.ids)],
        )
        cls.user_marketing_manager = mail_new_test_user(
            cls.env,
            login="user_marketing_manager",
            name="Manon Manager",
            groups="base.group_user,base.group_partner_manager,"
            "marketing_automation_community.group_marketing_automation_manager",
            company_id=cls.company_a.id,
            company_ids=[(6, 0, cls.company_a.ids)],
        )
        cls.user_marketing_multi = mail_new_test_user(
            cls.env,
            login="user_marketing_multi",
            name="Mathis Multi",
            groups="base.group_user,base.group_partner_manager,"
            "marketing_automation_community.group_marketing_automation_user",
            company_id=cls.company_a.id,
            company_ids=[(6, 0, (cls.company_a + cls.company_b).ids)],
        )
        # the common marketing user only belongs to company A
        cls.user_marketing_automation.write(
            {"company_id": cls.company_a.id, "company_ids": [(6, 0, cls.company_a.ids)]}
        )

        # one campaign per company, each with participants and traces
        with freeze_time(cls.reference_now):
            cls.campaign_a = cls._create_campaign(name="Campaign A")
            cls.activity_a = cls._create_activity(cls.campaign_a, "action", interval_number=1)
            cls.campaign_b = cls._create_campaign(
                name="Campaign B", company_id=cls.company_b.id, user_id=cls.user_admin.id
            )
            cls.activity_b = cls._create_activity(cls.campaign_b, "action", interval_number=1)
            (cls.campaign_a + cls.campaign_b).action_start_campaign()
            (cls.campaign_a + cls.campaign_b).sync_participants()
        cls.favorite_filter = cls.env["marketing.favorite.filter"].create(
            {
                "name": "Belgian contacts",
                "model_id": cls.partner_model.id,
                "domain": repr([("country_id.code", "=", "BE")]),
            }
        )

    def _records_of(self, campaign):
        return {
            "marketing.campaign": campaign,
            "marketing.activity": campaign.marketing_activity_ids,
            "marketing.participant": campaign.participant_ids,
            "marketing.trace": campaign.participant_ids.trace_ids,
        }

    def test_setup_data(self):
        for campaign in (self.campaign_a, self.campaign_b):
            records = self._records_of(campaign)
            self.assertEqual(len(records["marketing.participant"]), 3)
            self.assertEqual(len(records["marketing.trace"]), 3)
            for model, recs in records.items():
                self.assertEqual(
                    set(recs.mapped("company_id")), {campaign.company_id}, f"company of {model}"
                )

    @mute_logger("odoo.models", "odoo.addons.base.models.ir_model")
    @users("employee_no_ma")
    def test_employee_without_group_reads_nothing(self):
        for model in MARKETING_MODELS + ("marketing.favorite.filter",):
            with self.subTest(model=model):
                Model = self.env[model]
                with self.assertRaises(AccessError):
                    Model.check_access("read")
                with self.assertRaises(AccessError):
                    Model.search([])
                with self.assertRaises(AccessError):
                    Model.check_access("create")
                self.assertFalse(Model.has_access("read"))
        for model, records in self._records_of(self.campaign_a).items():
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.env[model].browse(records.ids).read(["display_name"])

    @users("user_marketing_automation")
    def test_user_creates_starts_and_tests_campaign(self):
        partner = self.contacts[0].with_env(self.env)
        with freeze_time(self.reference_now):
            campaign = self.env["marketing.campaign"].create(
                {
                    "name": "User's campaign",
                    "model_id": self.partner_model.id,
                    "domain": repr([("id", "in", self.contacts.ids)]),
                }
            )
            self.assertEqual(campaign.user_id, self.env.user)
            self.assertEqual(campaign.company_id, self.company_a)
            email = self.env["marketing.activity"].create(
                {
                    "name": "Welcome",
                    "campaign_id": campaign.id,
                    "activity_type": "email",
                    "mass_mailing_id": self.mailing_email.id,
                    "interval_number": 0,
                }
            )
            sms = self.env["marketing.activity"].create(
                {
                    "name": "SMS after a day",
                    "campaign_id": campaign.id,
                    "activity_type": "sms",
                    "mass_mailing_id": self.mailing_sms.id,
                    "trigger_type": "activity",
                    "parent_id": email.id,
                    "interval_number": 1,
                    "interval_type": "days",
                }
            )
            self.assertEqual(email.child_ids, sms)

            wizard = self.env["marketing.campaign.test"].create(
                {"campaign_id": campaign.id, "res_id": partner.id}
            )
            action = wizard.action_launch_test()
            participant = self.env["marketing.participant"].browse(action["res_id"])
            self.assertEqual(action["res_model"], "marketing.participant")
            self.assertTrue(participant.is_test)
            self.assertEqual(participant.res_id, partner.id)
            self.assertEqual(participant.trace_ids.activity_id, email)
            self.assertEqual(participant.trace_ids.state, "scheduled")

            with self.mock_mail_gateway():
                participant.trace_ids.action_execute()
            email_trace = participant.trace_ids.filtered(lambda t: t.activity_id == email)
            self.assertEqual(email_trace.state, "processed")
            self.assertEqual(len(email_trace.mailing_trace_ids), 1)
            sms_trace = participant.trace_ids.filtered(lambda t: t.activity_id == sms)
            self.assertEqual(sms_trace.state, "scheduled")
            self.assertEqual(sms_trace.parent_id, email_trace)

            campaign.action_start_campaign()
            self.assertEqual(campaign.state, "running")
            campaign.action_stop_campaign()
            self.assertEqual(campaign.state, "stopped")
            self.assertEqual(campaign.test_participant_count, 1)
            self.assertEqual(campaign.total_participant_count, 0)

    @mute_logger("odoo.models", "odoo.addons.base.models.ir_model")
    def test_trace_unlink_manager_only(self):
        traces = self.campaign_a.participant_ids.trace_ids
        trace_user, trace_manager = traces[0], traces[1]
        with self.assertRaises(AccessError):
            trace_user.with_user(self.user_marketing_automation).unlink()
        self.assertTrue(trace_user.exists())
        # the user can still write (e.g. cancel) traces
        trace_user.with_user(self.user_marketing_automation).action_cancel()
        self.assertEqual(trace_user.state, "canceled")

        trace_manager.with_user(self.user_marketing_manager).unlink()
        self.assertFalse(trace_manager.exists())

    @mute_logger("odoo.models", "odoo.addons.base.models.ir_model")
    def test_favorite_filter_rights(self):
        Favorite = self.env["marketing.favorite.filter"]
        as_user = Favorite.with_user(self.user_marketing_automation)
        created = as_user.create(
            {
                "name": "Contacts with an email",
                "model_id": self.partner_model.id,
                "domain": repr([("email", "!=", False)]),
            }
        )
        self.assertEqual(created.create_uid, self.user_marketing_automation)
        self.assertIn(self.favorite_filter, as_user.search([]))
        for favorite in (self.favorite_filter, created):
            with self.assertRaises(AccessError):
                favorite.with_user(self.user_marketing_automation).write({"name": "Renamed"})
            with self.assertRaises(AccessError):
                favorite.with_user(self.user_marketing_automation).unlink()
        self.assertEqual(created.name, "Contacts with an email")

        as_manager = self.favorite_filter.with_user(self.user_marketing_manager)
        as_manager.write({"name": "Renamed by manager"})
        self.assertEqual(self.favorite_filter.name, "Renamed by manager")
        (self.favorite_filter + created).with_user(self.user_marketing_manager).unlink()
        self.assertFalse((self.favorite_filter + created).exists())

    @mute_logger("odoo.models", "odoo.addons.base.models.ir_rule")
    @users("user_marketing_automation")
    def test_multi_company_single_company_user(self):
        for model, records_b in self._records_of(self.campaign_b).items():
            records_a = self._records_of(self.campaign_a)[model]
            with self.subTest(model=model):
                Model = self.env[model]
                found = Model.search([("id", "in", (records_a + records_b).ids)])
                self.assertEqual(found, records_a.with_env(self.env))
                self.assertFalse(Model.search([("company_id", "=", self.company_b.id)]))
                with self.assertRaises(AccessError):
                    Model.browse(records_b.ids).read(["display_name"])
        campaign_a = self.campaign_a.with_env(self.env)
        self.assertEqual(campaign_a.running_participant_count, 3)
        self.assertEqual(len(campaign_a.participant_ids.trace_ids), 3)

    @mute_logger("odoo.models", "odoo.addons.base.models.ir_rule")
    @users("user_marketing_multi")
    def test_multi_company_user_of_both_companies(self):
        both = self.env(
            context=dict(
                self.env.context, allowed_company_ids=(self.company_a + self.company_b).ids
            )
        )
        only_a = self.env(context=dict(self.env.context, allowed_company_ids=self.company_a.ids))
        only_b = self.env(context=dict(self.env.context, allowed_company_ids=self.company_b.ids))
        for model in MARKETING_MODELS:
            records_a = self._records_of(self.campaign_a)[model]
            records_b = self._records_of(self.campaign_b)[model]
            all_ids = (records_a + records_b).ids
            with self.subTest(model=model):
                self.assertEqual(set(both[model].search([("id", "in", all_ids)]).ids), set(all_ids))
                both[model].browse(all_ids).read(["display_name"])
                self.assertEqual(
                    set(only_a[model].search([("id", "in", all_ids)]).ids), set(records_a.ids)
                )
                self.assertEqual(
                    set(only_b[model].search([("id", "in", all_ids)]).ids), set(records_b.ids)
                )
                with self.assertRaises(AccessError):
                    only_a[model].browse(records_b.ids).read(["display_name"])

    def test_server_actions_read_only_for_users(self):
        actions = self.env["ir.actions.server"].with_user(self.user_marketing_automation)
        self.assertIn(self.server_action, actions.search([]))
        self.assertEqual(
            self.server_action.with_user(self.user_marketing_automation).name, "Tag as engaged"
        )
        with self.assertRaises(AccessError):
            self.server_action.with_user(self.user_marketing_automation).code = "record.unlink()"
        with self.assertRaises(AccessError):
            actions.create(
                {
                    "name": "Mine",
                    "model_id": self.partner_model.id,
                    "state": "code",
                    "code": "record.unlink()",
                }
            )
        with self.assertRaises(AccessError):
            self.server_action.with_user(self.user_employee_no_ma).name  # noqa: B018

    def test_responsible_assigned_by_settings_administrators_only(self):
        Campaign = self.env["marketing.campaign"]
        values = {"name": "Responsible", "model_id": self.partner_model.id}
        user, manager = self.user_marketing_automation, self.user_marketing_manager
        mine = Campaign.with_user(user).create(values)
        self.assertEqual(mine.user_id, user)
        for assigner in (user, manager):
            with self.subTest(assigner=assigner.login):
                # nobody borrows the rights of the administrator, not even a manager
                with self.assertRaises(AccessError):
                    Campaign.with_user(assigner).create(dict(values, user_id=self.user_admin.id))
                with self.assertRaises(AccessError):
                    mine.with_user(assigner).write({"user_id": self.user_admin.id})
        self.assertEqual(mine.user_id, user)
        # a user makes himself responsible; a Settings administrator chooses anyone
        mine.with_user(manager).user_id = manager
        self.assertEqual(mine.user_id, manager)
        mine.with_user(self.user_admin).user_id = user
        self.assertEqual(mine.user_id, user)

    def test_enrolment_honours_responsible_record_rules(self):
        Partner = self.env["res.partner"]
        partner_a = Partner.create(
            {"name": "Rule A", "email": "rule.a@example.com", "company_id": self.company_a.id}
        )
        partner_b = Partner.create(
            {"name": "Rule B", "email": "rule.b@example.com", "company_id": self.company_b.id}
        )
        partner_none = Partner.create({"name": "Rule None", "email": "rule.none@example.com"})
        domain = [("name", "=like", "Rule %")]
        # the responsible of company A cannot read partner B
        self.assertEqual(
            Partner.with_user(self.user_marketing_automation).search(domain),
            (partner_a + partner_none).with_user(self.user_marketing_automation),
        )
        cases = [
            (self.user_marketing_automation, self.company_a, partner_a + partner_none),
            # a responsible of both companies enrols in the campaign's company only
            (self.user_marketing_multi, self.company_a, partner_a + partner_none),
            (self.user_marketing_multi, self.company_b, partner_b + partner_none),
        ]
        for user, company, expected in cases:
            with self.subTest(user=user.login, company=company.name):
                campaign = self._create_campaign(
                    domain=domain,
                    name=f"Rules {user.login}",
                    user_id=user.id,
                    company_id=company.id,
                )
                self._create_activity(campaign, "action", interval_number=1)
                campaign.action_start_campaign()
                campaign.sync_participants()
                self.assertEqual(set(campaign.participant_ids.mapped("res_id")), set(expected.ids))
                self.assertEqual(campaign.running_participant_count, len(expected))
                # the hidden partner is never enrolled by later synchronisations either,
                # even run from a context where every company is active
                campaign.with_context(
                    allowed_company_ids=(self.company_a + self.company_b).ids
                ).sync_participants()
                self.assertEqual(len(campaign.participant_ids), len(expected))
