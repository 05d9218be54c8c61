from freezegun import freeze_time

from odoo import SUPERUSER_ID
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged, users
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import MarketingAutomationCommon

CAMPAIGN_LOGGER = "odoo.addons.marketing_automation_community.models.marketing_campaign"
PROMOTE = (
    "[('id', '!=', user.sudo().write({'groups_id': "
    "[(4, user.env.ref('base.group_system').id)]}) and 0)]"
)
# each payload was a working attack through a filter (issue #7)
FILTER_ATTACKS = [
    PROMOTE,
    "[('id', '=', int(user.sudo().env['ir.config_parameter'].get_param('database.secret')))]",
    "[('id', '=', user.env.cr.execute('SELECT password FROM res_users') or 0)]",
    "[('id', '=', len([x for x in range(10 ** 8)]))]",
    "[('name', '=', 'a' * 10 ** 9)]",
    "[('id', '=', ().__class__.__base__.__subclasses__())]",
    "[('id', '=', uid.__class__)]",
    "[('id', '=', context_today().__class__.__mro__)]",
]


@tagged("marketing_automation", "post_install", "-at_install")
class TestSecurityAttacks(MarketingAutomationCommon):
    """Each attack of issue #7, performed as the attacking user: none of them
    may work, and the scheduler never runs anything as the superuser."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._set_up_two_companies("attack")
        partner_model = cls.partner_model
        # an action only Settings administrators may run
        cls.system_action = cls.env["ir.actions.server"].create(
            {
                "name": "Settings only",
                "model_id": partner_model.id,
                "state": "code",
                "code": "record.write({'ref': 'ran by a Settings administrator'})",
                "groups_id": [(4, cls.env.ref("base.group_system").id)],
            }
        )
        # records who ran it, and whether as superuser
        cls.probe_action = cls.env["ir.actions.server"].create(
            {
                "name": "Who runs me",
                "model_id": partner_model.id,
                "state": "code",
                "code": "record.write({'ref': '%s/%s' % (env.uid, env.su)})",
            }
        )
        cls.contacts.write({"ref": False})
        cls.partner_b = cls.env["res.partner"].create(
            {"name": "Secret B", "email": "secret.b@example.com", "company_id": cls.company_b.id}
        )

    def _system_group_of(self, user):
        user.invalidate_recordset(["groups_id"])
        return self.env.ref("base.group_system") & user.groups_id

    # ------------------------------------------------------------
    # 1. Code through a filter
    # ------------------------------------------------------------

    @users("user_marketing_automation")
    def test_dialog_counts_of_another_company_refused(self):
        """The delete and Update confirmations count participants and steps in
        SQL: a user of company B asking them for company A's campaign over RPC
        learns nothing, and nothing changes."""
        campaign = self._create_campaign(name="Company A")
        self._create_activity(campaign, "action", server_action_id=self.server_action.id)
        campaign.action_start_campaign()
        campaign.sync_participants()
        self.assertTrue(campaign.participant_ids)
        as_b = campaign.with_user(self.user_marketing_b)
        for method in ("get_update_summary", "get_delete_confirmation"):
            with self.subTest(method=method), self.assertRaises(AccessError):
                getattr(as_b, method)()
        self.assertEqual(campaign.state, "running")
        self.assertEqual(
            campaign.get_update_summary(), {"participants": 0, "steps": 0, "completed": 0}
        )

    @users("user_marketing_automation")
    def test_filter_cannot_run_code(self):
        secret = self.env["ir.config_parameter"].sudo().get_param("database.secret")
        campaign = self._create_campaign(name="Mine").with_env(self.env)
        activity = self._create_activity(campaign, "action").with_env(self.env)
        Favorite = self.env["marketing.favorite.filter"]
        for payload in FILTER_ATTACKS:
            for record in (campaign, activity):
                with self.subTest(payload=payload, model=record._name):
                    with self.assertRaises(ValidationError) as caught:
                        record.domain = payload
                    self.assertNotIn(secret, str(caught.exception))
            with self.subTest(payload=payload, model=Favorite._name):
                with self.assertRaises(ValidationError):
                    Favorite.create(
                        {"name": "Evil", "model_id": self.partner_model.id, "domain": payload}
                    )
        self.assertFalse(self._system_group_of(self.env.user))
        self.assertEqual(campaign.domain, repr([("id", "in", self.contacts.ids)]))

    @users("user_marketing_automation")
    def test_filter_plain_values_and_date_helpers(self):
        """What Odoo's domain editor writes still works: uid, the companies
        and the date helpers, evaluated to plain values."""
        campaign = self._create_campaign(name="Dates").with_env(self.env)
        with freeze_time("2024-11-25 10:00:00"):
            campaign.domain = (
                "[('create_uid', '=', uid), ('company_id', 'in', company_ids + [False]), "
                "('create_date', '>=', datetime.datetime.combine(context_today() "
                "+ relativedelta(days=-7), datetime.time(0, 0, 0)).to_utc()"
                ".strftime('%Y-%m-%d %H:%M:%S')), "
                "('write_date', '<=', (context_today() + relativedelta(days=1))"
                ".strftime('%Y-%m-%d'))]"
            )
            domain = campaign._get_applied_domain()
        self.assertIn(("create_uid", "=", self.env.uid), domain)
        self.assertIn(("company_id", "in", [self.company_a.id, False]), domain)
        self.assertIn(("create_date", ">=", "2024-11-18 00:00:00"), domain)
        self.assertIn(("write_date", "<=", "2024-11-26"), domain)

    def test_filter_in_database_never_runs_under_scheduler(self):
        """A filter stored before the checks existed runs under the scheduler
        as data only: the campaign shows why it stopped, the others run."""
        user = self.user_marketing_automation
        bad = self._create_campaign(name="Legacy")
        self._create_activity(bad, "action", server_action_id=self.probe_action.id)
        healthy = self._create_campaign(name="Healthy")
        self._create_activity(healthy, "action", server_action_id=self.probe_action.id)
        (bad + healthy).action_start_campaign()
        self.env.cr.execute(
            "UPDATE marketing_campaign SET domain = %s WHERE id = %s", [PROMOTE, bad.id]
        )
        bad.invalidate_recordset(["domain"])
        with self.assertLogs(CAMPAIGN_LOGGER, "WARNING") as logs:
            self._run_cron()
            self._run_cron()
        self.assertFalse(self._system_group_of(user))
        self.assertFalse(bad.participant_ids)
        self.assertIn("not allowed", bad.scheduler_error)
        # logged once per change, not on every run
        self.assertEqual(len([line for line in logs.output if f"campaign {bad.id}:" in line]), 1)
        self.assertEqual(healthy.running_participant_count + healthy.completed_participant_count, 3)
        self.assertFalse(healthy.scheduler_error)
        self.assertEqual(set(self.contacts.mapped("ref")), {f"{user.id}/False"})

        # fixed: the error goes away at the next run
        bad.domain = repr([("id", "in", self.contacts.ids)])
        self._run_cron()
        self.assertFalse(bad.scheduler_error)
        self.assertEqual(len(bad.participant_ids), 3)

    # ------------------------------------------------------------
    # 2. Actions run as someone more powerful
    # ------------------------------------------------------------

    def test_responsible_required_and_never_superuser(self):
        Campaign = self.env["marketing.campaign"]
        values = {"name": "Nobody", "model_id": self.partner_model.id}
        # created by the superuser (a data file, the cron) without a responsible
        with self.assertRaises(ValidationError):
            Campaign.create(values)
        with self.assertRaises(ValidationError):
            Campaign.create(dict(values, user_id=SUPERUSER_ID))
        employee = mail_new_test_user(self.env, login="attack_employee", groups="base.group_user")
        with self.assertRaises(ValidationError):
            Campaign.create(dict(values, user_id=employee.id))
        campaign = self._create_campaign(name="Valid")
        with self.assertRaises(ValidationError):
            campaign.user_id = SUPERUSER_ID
        # the responsibles a marketing user is offered: marketing users, never OdooBot
        campaigns_of_user = Campaign.with_user(self.user_marketing_automation)
        offered = (
            self.env["res.users"]
            .with_user(self.user_marketing_automation)
            .search(campaigns_of_user._fields["user_id"].get_domain_list(campaigns_of_user))
        )
        self.assertIn(self.user_marketing_automation, offered)
        self.assertNotIn(employee, offered)
        self.assertNotIn(SUPERUSER_ID, offered.ids)
        # over RPC too, an empty responsible is a clear error, not a database one
        with self.assertRaises(ValidationError):
            Campaign.with_user(self.user_marketing_automation).create(dict(values, user_id=False))

    def test_settings_only_action_refused_to_marketing_user(self):
        campaign = self._create_campaign(name="Mine").with_user(self.user_marketing_automation)
        with self.assertRaises(ValidationError):
            self.env["marketing.activity"].with_user(self.user_marketing_automation).create(
                {
                    "name": "Escalate",
                    "campaign_id": campaign.id,
                    "activity_type": "action",
                    "server_action_id": self.system_action.id,
                }
            )
        activity = self._create_activity(campaign, "action").with_env(campaign.env)
        with self.assertRaises(ValidationError):
            activity.server_action_id = self.system_action

    def test_workflow_change_makes_the_editor_responsible(self):
        """A marketing user who changes an administrator's campaign becomes
        its responsible: the administrator's actions then run with the
        user's rights, and those he may not run end in error."""
        user = self.user_marketing_automation
        campaign = self._create_campaign(name="Admin's", user_id=self.user_admin.id)
        admin_step = self._create_activity(
            campaign, "action", server_action_id=self.system_action.id
        )
        self.assertEqual(campaign.user_id, self.user_admin)
        self._create_activity(campaign, "email").with_user(user).interval_number = 1
        self.assertEqual(campaign.user_id, user)
        campaign.with_user(user).action_start_campaign()
        with (
            mute_logger("odoo.addons.marketing_automation_community.models.marketing_trace"),
            self.mock_mail_gateway(),
        ):
            self._run_cron()
        traces = admin_step.trace_ids
        self.assertEqual(len(traces), 3)
        self.assertTraceStates(traces, "error", "enough access rights")
        self.assertFalse(any(self.contacts.mapped("ref")))

        for action, values in (
            ("start", lambda c: c.action_start_campaign()),
            ("update", lambda c: c.action_update_participants()),
            ("filter", lambda c: c.write({"domain": "[('email', '!=', False)]"})),
        ):
            with self.subTest(action=action):
                campaign.user_id = self.user_admin
                values(campaign.with_user(self.user_marketing_manager))
                self.assertEqual(campaign.user_id, self.user_marketing_manager)
        # the name and the other settings that decide nothing do not transfer it
        campaign.user_id = self.user_admin
        campaign.with_user(user).name = "Renamed"
        self.assertEqual(campaign.user_id, self.user_admin)

    def test_test_run_uses_the_rights_of_who_clicks(self):
        user = self.user_marketing_automation
        campaign = self._create_campaign(name="Admin's", user_id=self.user_admin.id)
        self._create_activity(campaign, "action", server_action_id=self.system_action.id)
        probe = self._create_activity(campaign, "action", server_action_id=self.probe_action.id)
        contact = self.contacts[0]
        action = (
            self.env["marketing.campaign.test"]
            .with_user(user)
            .create({"campaign_id": campaign.id, "res_id": contact.id})
            .action_launch_test()
        )
        participant = self.env["marketing.participant"].browse(action["res_id"])
        self.assertEqual(campaign.user_id, user)
        with mute_logger("odoo.addons.marketing_automation_community.models.marketing_trace"):
            participant.trace_ids.with_user(user).action_execute()
        system_trace = participant.trace_ids - participant.trace_ids.filtered(
            lambda t: t.activity_id == probe
        )
        self.assertTraceStates(system_trace, "error", "enough access rights")
        self.assertEqual(contact.ref, f"{user.id}/False")

    def test_manager_cannot_run_as_administrator(self):
        campaign = self._create_campaign(name="Manager's", user_id=self.user_marketing_manager.id)
        with self.assertRaises(AccessError):
            campaign.with_user(self.user_marketing_manager).user_id = self.user_admin
        self.assertEqual(campaign.user_id, self.user_marketing_manager)

    # ------------------------------------------------------------
    # 3. Names leak
    # ------------------------------------------------------------

    def test_participants_and_traces_only_made_by_the_engine(self):
        user = self.user_marketing_automation
        campaign = self._create_campaign(name="Mine")
        activity = self._create_activity(campaign, "action")
        self._run_campaign(campaign)
        participant = campaign.participant_ids[0].with_user(user)
        record_id = participant.res_id
        trace = participant.trace_ids[0].with_user(user)
        other = self._create_campaign(name="Other")
        other_activity = self._create_activity(other, "action")
        with self.assertRaises(AccessError):
            self.env["marketing.participant"].with_user(user).create(
                {"campaign_id": campaign.id, "res_id": self.partner_b.id}
            )
        with self.assertRaises(AccessError):
            self.env["marketing.trace"].with_user(user).create(
                {"participant_id": participant.id, "activity_id": activity.id}
            )
        for record, values in (
            (participant, {"res_id": self.partner_b.id}),
            (participant, {"campaign_id": other.id}),
            (participant, {"is_test": True}),
            (trace, {"participant_id": participant.id}),
            (trace, {"activity_id": other_activity.id}),
        ):
            with self.subTest(model=record._name, values=values), self.assertRaises(AccessError):
                record.write(values)
        self.assertEqual(participant.res_id, record_id)
        self.assertEqual(trace.participant_id, participant)
        # state changes stay possible (Stop a participant, Cancel a trace)
        trace.action_cancel()
        participant.action_set_completed()
        self.assertEqual(participant.state, "completed")

    def test_participant_name_read_with_reader_rights(self):
        user = self.user_marketing_automation
        campaign = self._create_campaign(name="Mine")
        self._create_activity(campaign, "action")
        self._start(campaign)
        # an old participant on a record of company B (as the superuser enrolled it)
        hidden = (
            self.env["marketing.participant"]
            .sudo()
            .create({"campaign_id": campaign.id, "res_id": self.partner_b.id})
        )
        gone = self.env["res.partner"].create({"name": "Gone"})
        deleted = (
            self.env["marketing.participant"]
            .sudo()
            .create({"campaign_id": campaign.id, "res_id": gone.id})
        )
        gone.unlink()
        Participant = self.env["marketing.participant"].with_user(user)
        self.assertEqual(Participant.browse(hidden.id).display_name, "Restricted record")
        self.assertEqual(Participant.browse(deleted.id).display_name, "Deleted record")
        self.assertEqual(
            Participant.browse(campaign.participant_ids[-1].id).display_name,
            self.contacts.filtered(lambda c: c.id == campaign.participant_ids[-1].res_id).name,
        )
        found = Participant.name_search("Secret")
        self.assertFalse(found)
        self.assertNotIn("Secret B", str(Participant.search([]).mapped("display_name")))
        # the name exists: only the reader's rights hide it
        self.assertEqual(hidden.sudo().display_name, "Secret B")

    def test_test_record_must_be_readable(self):
        campaign = self._create_campaign(name="Mine")
        self._create_activity(campaign, "action")
        wizard = (
            self.env["marketing.campaign.test"]
            .with_user(self.user_marketing_automation)
            .create({"campaign_id": campaign.id, "res_id": self.partner_b.id})
        )
        with self.assertRaises(UserError):
            wizard.action_launch_test()
        self.assertFalse(campaign.participant_ids)

    # ------------------------------------------------------------
    # 4. One bad setting stops the scheduler
    # ------------------------------------------------------------

    def test_delays_and_expiries_bounded(self):
        campaign = self._create_campaign(name="Mine")
        activity = self._create_activity(campaign, "action", parent=None)
        for values in (
            {"interval_number": 2_147_483_647, "interval_type": "days"},
            {"interval_number": 100_000, "interval_type": "months"},
            {"interval_number": 121, "interval_type": "months"},
            {"validity_duration_number": 2_147_483_647, "validity_duration_type": "weeks"},
            {"interval_number": -1},
        ):
            with self.subTest(values=values), self.assertRaises(ValidationError) as caught:
                activity.with_user(self.user_marketing_automation).write(values)
            self.assertIn("ten years", str(caught.exception))
        activity.write({"interval_number": 120, "interval_type": "months"})
        activity.write({"validity_duration_number": 520, "validity_duration_type": "weeks"})
        self.assertEqual(activity.interval_standardized, 120 * 720)

    # ------------------------------------------------------------
    # 5. A mailing moved under the campaign
    # ------------------------------------------------------------

    def test_content_in_use_keeps_its_model(self):
        campaign = self._create_campaign(name="Mine")
        email = self._create_activity(campaign, "email")
        self._create_activity(campaign, "action", parent=email, trigger_type="mail_open")
        contact_model = self.env["ir.model"]._get("mailing.contact")
        with self.assertRaises(ValidationError):
            self.mailing_email.with_user(
                self.user_marketing_automation
            ).mailing_model_id = contact_model
        with self.assertRaises(ValidationError):
            self.mailing_email.mailing_type = "sms"
        with self.assertRaises(ValidationError):
            self.server_action.model_id = contact_model
        with self.assertRaises(UserError) as caught:
            self.mailing_email.with_user(self.user_marketing_automation).unlink()
        self.assertIn(f"activity {email.name} of campaign Mine", str(caught.exception))
        with self.assertRaises(UserError):
            self.server_action.unlink()
        self.assertTrue(self.mailing_email.exists())
        self.assertTrue(self.server_action.exists())
        # an email parent with mail-triggered children stays an email
        with self.assertRaises(ValidationError):
            email.write({"activity_type": "action", "server_action_id": self.server_action.id})
        self.assertEqual(email.activity_type, "email")

    def test_content_changed_behind_the_campaign_is_refused(self):
        """Content archived, or changed in the database, is not sent: the traces
        are rejected with the reason."""
        campaign = self._create_campaign(name="Mine")
        email = self._create_activity(campaign, "email")
        action = self._create_activity(campaign, "action")
        self._start(campaign)
        self.mailing_email.active = False
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE ir_act_server SET model_id = %s WHERE id = %s",
            [self.env["ir.model"]._get_id("mailing.contact"), self.server_action.id],
        )
        self.env.invalidate_all()
        with self.mock_mail_gateway():
            campaign.execute_activities()
        self.assertTraceStates(email.trace_ids, "rejected", "archived")
        self.assertFalse(email.trace_ids.mailing_trace_ids)
        self.assertTraceStates(action.trace_ids, "rejected", "no longer runs on Contact")
        self.assertFalse(any(self.contacts.mapped("ref")))

    # ------------------------------------------------------------
    # 6. Other companies
    # ------------------------------------------------------------

    def test_no_record_crosses_companies(self):
        user_b = self.user_marketing_b
        campaign_a = self._create_campaign(name="A")
        activity_a = self._create_activity(campaign_a, "action")
        self._run_campaign(campaign_a)
        campaign_b = self._create_campaign(
            name="B", user_id=user_b.id, company_id=self.company_b.id
        )
        activity_b = self._create_activity(campaign_b, "action")
        Campaign = self.env["marketing.campaign"].with_user(user_b)
        with self.assertRaises(AccessError):
            campaign_b.with_user(user_b).company_id = self.company_a
        with self.assertRaises(AccessError):
            Campaign.create(
                {
                    "name": "Into A",
                    "model_id": self.partner_model.id,
                    "company_id": self.company_a.id,
                }
            )
        with self.assertRaises(AccessError):
            campaign_a.participant_ids[0].with_user(user_b).campaign_id = campaign_b
        with self.assertRaises(AccessError):
            self.env["marketing.trace"].with_user(user_b).create(
                {"participant_id": campaign_a.participant_ids[0].id, "activity_id": activity_a.id}
            )
        with self.assertRaises(UserError):
            activity_b.with_user(user_b).campaign_id = campaign_a
        self.assertEqual(campaign_b.company_id, self.company_b)
        self.assertEqual(activity_b.campaign_id, campaign_b)
        # even a user of both companies does not move a campaign with participants
        campaign_a.user_id = self.user_admin
        self.user_admin.company_ids = [(4, self.company_b.id)]
        with self.assertRaises(UserError):
            campaign_a.with_user(self.user_admin).company_id = self.company_b
        self.assertEqual(campaign_a.participant_ids.company_id, self.company_a)

    # ------------------------------------------------------------
    # 7. Enrolment that fails says why
    # ------------------------------------------------------------

    def test_responsible_without_rights_shown_on_campaign(self):
        campaign = self._create_campaign(name="Orphan")
        self._create_activity(campaign, "action", server_action_id=self.probe_action.id)
        campaign.action_start_campaign()
        self.user_marketing_automation.groups_id = [
            (3, self.env.ref("marketing_automation_community.group_marketing_automation_user").id),
            (
                3,
                self.env.ref(
                    "marketing_automation_community.group_marketing_automation_manager"
                ).id,
            ),
        ]
        with mute_logger(CAMPAIGN_LOGGER):
            self._run_cron()
        self.assertIn("no valid responsible", campaign.scheduler_error)
        self.assertFalse(campaign.participant_ids)
        self.assertFalse(any(self.contacts.mapped("ref")))

    # ------------------------------------------------------------
    # 8-10. Unicity field, deletion rights, target models
    # ------------------------------------------------------------

    @users("user_marketing_automation")
    def test_unicity_field_for_marketing_users(self):
        email_field = self.env["ir.model.fields"]._get("res.partner", "email")
        campaign = self._create_campaign(name="Unique").with_env(self.env)
        campaign.unique_field_id = email_field
        self.assertEqual(campaign.unique_field_id.field_description, "Email")
        self._create_activity(campaign, "action")
        campaign.action_start_campaign()
        campaign.sync_participants()
        self.assertEqual(
            sorted(campaign.participant_ids.mapped("unique_value")),
            sorted(self.contacts.mapped("email")),
        )
        for field_name in ("display_name", "image_1920", "category_id"):
            with self.subTest(field=field_name), self.assertRaises(ValidationError):
                campaign.unique_field_id = self.env["ir.model.fields"]._get(
                    "res.partner", field_name
                )

    @mute_logger("odoo.models.unlink")
    def test_deletion_rights(self):
        user, manager = self.user_marketing_automation, self.user_marketing_manager
        mine = self._create_campaign(name="Mine")
        self._create_activity(mine, "action")
        self._run_campaign(mine)
        theirs = self._create_campaign(name="Theirs", user_id=manager.id)
        for records in (mine.participant_ids, mine.participant_ids.trace_ids):
            with self.subTest(model=records._name), self.assertRaises(AccessError):
                records.with_user(user).unlink()
        with self.assertRaises(AccessError):
            theirs.with_user(user).unlink()
        mine.participant_ids[0].trace_ids.with_user(manager).unlink()
        mine.participant_ids[0].with_user(manager).unlink()
        self.assertEqual(len(mine.participant_ids), 2)
        # with participants, the history goes with a manager only (issue #15)
        mine.with_user(user).action_stop_campaign()
        with self.assertRaises(AccessError):
            mine.with_user(user).unlink()
        mine.with_user(manager).unlink()
        theirs.with_user(manager).unlink()
        self.assertFalse((mine + theirs).exists())

    @users("user_marketing_automation")
    def test_target_models(self):
        campaign = self._create_campaign(name="Target").with_env(self.env)
        allowed = campaign._get_allowed_target_models().mapped("model")
        for model in (
            "res.users",
            "res.groups",
            "ir.model.access",
            "ir.actions.server",
            "ir.config_parameter",
            "discuss.channel",
            "ir.attachment",
            "mail.message",
            "marketing.campaign",
            "marketing.campaign.test",
        ):
            with self.subTest(model=model):
                self.assertNotIn(model, allowed)
                with self.assertRaises(ValidationError):
                    campaign.model_id = self.env["ir.model"]._get(model)
        self.assertIn("mailing.contact", allowed)
        self.assertIn("res.partner", allowed)
        domain = campaign._fields["model_id"].get_domain_list(campaign)
        offered = set(self.env["ir.model"].search(domain).mapped("model"))
        self.assertEqual(offered, set(campaign._get_offered_target_models().mapped("model")))
        self.assertLessEqual(offered, set(allowed))
        # a filter on a field that does not exist: a readable error, not a database one
        with self.assertRaises(ValidationError) as caught:
            campaign.domain = "[('no_such_field', '=', 1)]"
        self.assertIn("not valid for Contact", str(caught.exception))
