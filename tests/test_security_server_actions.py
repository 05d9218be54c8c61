from contextlib import contextmanager
from datetime import timedelta

from freezegun import freeze_time
from lxml import etree

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged, users
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import MarketingAutomationCommon

CRON_XMLID = "marketing_automation_community.ir_cron_marketing_automation"
MANAGER_GROUP = "marketing_automation_community.group_marketing_automation_manager"
# what a computed value ran as the superuser made of its author (issue #15)
PROMOTE = (
    "env['res.users'].sudo().browse(env.uid).write({'groups_id': "
    "[Command.link(env.ref('base.group_system').id)]}) and record.name"
)
REFUSED = (AccessError, UserError, ValidationError)


@tagged("marketing_automation", "post_install", "-at_install")
class TestSecurityServerActions(MarketingAutomationCommon):
    """Server actions are Settings-only, as in Odoo (which runs them as the
    superuser): each way a marketing manager made himself a Settings
    administrator through a server action (issue #15), performed as him, is
    refused; marketing users and managers pick the actions administrators made."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_marketing_manager = mail_new_test_user(
            cls.env,
            login="actions_manager",
            name="Manon Manager",
            groups=f"base.group_user,base.group_partner_manager,{MANAGER_GROUP}",
        )
        cls.group_system = cls.env.ref("base.group_system")
        # an action a Settings administrator made for campaigns, without code
        cls.admin_action = cls.env["ir.actions.server"].create(
            {
                "name": "Mark as picked",
                "model_id": cls.partner_model.id,
                "state": "object_write",
                "update_path": "ref",
                "value": "picked",
            }
        )

    @contextmanager
    def assertRefused(self):
        """The block is refused, whatever way (access right, constraint, error)."""
        self.env.invalidate_all()
        with self.assertRaises(Exception) as caught:
            yield
        self.assertIsInstance(caught.exception, REFUSED)

    def _system_group_of(self, user):
        user.invalidate_recordset(["groups_id"])
        return self.group_system & user.groups_id

    def _assert_not_administrator(self, user):
        self.assertFalse(self._system_group_of(user), f"{user.login} became Settings administrator")

    def _escalating_values(self, **values):
        return {"name": "Innocent", "model_id": self.partner_model.id, **values}

    # ------------------------------------------------------------
    # Item 1: creating, editing and deleting server actions
    # ------------------------------------------------------------

    @users("actions_manager")
    @mute_logger("odoo.models")
    def test_manager_cannot_create_computed_value_action(self):
        Action = self.env["ir.actions.server"]
        with self.assertRefused():
            Action.create(
                self._escalating_values(
                    state="object_write",
                    update_path="name",
                    evaluation_type="equation",
                    value=PROMOTE,
                )
            )
        self._assert_not_administrator(self.env.user)

    @users("actions_manager")
    @mute_logger("odoo.models")
    def test_manager_cannot_create_relation_path_action(self):
        Action = self.env["ir.actions.server"]
        with self.assertRefused():
            Action.create(
                self._escalating_values(
                    state="object_write",
                    update_path="create_uid.groups_id",
                    update_m2m_operation="add",
                    evaluation_type="value",
                    value=str(self.group_system.id),
                )
            )
        self._assert_not_administrator(self.env.user)

    @users("actions_manager")
    @mute_logger("odoo.models")
    def test_manager_cannot_turn_action_into_code(self):
        payload = (
            "env['res.users'].sudo().browse(env.uid).write("
            f"{{'groups_id': [Command.link({self.group_system.id})]}})"
        )
        Action = self.env["ir.actions.server"]
        with self.assertRefused():
            Action.create(self._escalating_values(state="object_write", code=payload))
        # nor on an action an administrator made without code
        with self.assertRefused():
            self.admin_action.with_env(self.env).write({"state": "code", "code": payload})
        with self.assertRefused():
            self.admin_action.with_env(self.env).state = "code"
        self.assertEqual(self.admin_action.sudo().state, "object_write")
        self._assert_not_administrator(self.env.user)

    @mute_logger("odoo.models")
    def test_manager_cannot_rewrite_template_action(self):
        """The administrator's Welcome Flow action *Remove bounced address*
        stays as the template made it, whoever tries to rewrite it."""
        Campaign = self.env["marketing.campaign"].with_user(self.user_admin)
        campaign = Campaign.browse(
            Campaign.action_create_campaign_from_template("welcome")["res_id"]
        )
        action = campaign.marketing_activity_ids.server_action_id.with_user(self.user_admin)
        self.assertEqual(action.name, "Remove bounced address")
        before = action.read(["evaluation_type", "value", "update_path", "state", "code"])
        manager, user = self.user_marketing_manager, self.user_marketing_automation
        for attacker in (manager, user):
            as_attacker = action.with_user(attacker)
            with self.subTest(attacker=attacker.login):
                # he sees the action he may pick, and changes nothing of it
                self.assertEqual(as_attacker.name, "Remove bounced address")
                with self.assertRefused():
                    as_attacker.write({"evaluation_type": "equation", "value": PROMOTE})
                with self.assertRefused():
                    as_attacker.write(
                        {"update_path": "create_uid.groups_id", "value": str(self.group_system.id)}
                    )
                with self.assertRefused():
                    as_attacker.unlink()
        action.invalidate_recordset()
        self.assertEqual(
            action.read(["evaluation_type", "value", "update_path", "state", "code"]), before
        )
        self._assert_not_administrator(manager)
        self._assert_not_administrator(user)

    @mute_logger("odoo.models")
    def test_marketers_do_not_edit_or_delete_actions(self):
        for marketer in (self.user_marketing_manager, self.user_marketing_automation):
            action = self.admin_action.with_user(marketer)
            with self.subTest(marketer=marketer.login):
                with self.assertRaises(AccessError):
                    action.name = "Renamed"
                with self.assertRaises(AccessError):
                    action.unlink()
                with self.assertRefused():
                    action.copy()
        self.assertEqual(self.admin_action.name, "Mark as picked")
        # Settings administrators keep every right
        self.admin_action.with_user(self.user_admin).name = "Picked"
        self.assertEqual(self.admin_action.name, "Picked")

    @mute_logger("odoo.models")
    def test_manager_campaign_runs_only_what_an_administrator_made(self):
        """A started campaign cannot run an escalating action of the manager:
        he cannot make one; what he picks runs with his rights."""
        manager = self.user_marketing_manager
        with self.assertRefused():
            self.env["ir.actions.server"].with_user(manager).create(
                self._escalating_values(
                    state="object_write",
                    update_path="create_uid.groups_id",
                    update_m2m_operation="add",
                    value=str(self.group_system.id),
                )
            )
        campaign = self._create_campaign(user_id=manager.id).with_user(manager)
        self._create_activity(campaign, "action", server_action_id=self.admin_action.id)
        with freeze_time(self.reference_now):
            campaign.action_start_campaign()
            self.env.ref(CRON_XMLID).method_direct_trigger()
        self.assertEqual(self.contacts.mapped("ref"), ["picked"] * 3)
        self.assertEqual(self.contacts.write_uid, manager)
        self._assert_not_administrator(manager)

    @users("user_marketing_automation")
    def test_user_picks_administrator_action(self):
        campaign = self._create_campaign().with_env(self.env)
        Action = self.env["ir.actions.server"]
        self.assertIn(
            self.admin_action,
            Action.search(
                [
                    ("model_id", "=", self.partner_model.id),
                    ("usage", "=", "ir_actions_server"),
                    ("binding_model_id", "=", False),
                ]
            ),
        )
        activity = self._create_activity(campaign, "action", server_action_id=self.admin_action.id)
        with freeze_time(self.reference_now):
            self._run_campaign(campaign)
        self.assertTraceStates(self._traces(activity), "processed")
        self.assertEqual(self.contacts.mapped("ref"), ["picked"] * 3)
        self.assertEqual(self.contacts.write_uid, self.env.user)

    def test_activity_form_offers_no_action_creation_to_marketers(self):
        """Only Settings administrators are offered *Create* and *Create and
        edit...* in the activity's server action field."""

        def server_action_node(user):
            arch = (
                self.env["marketing.activity"]
                .with_user(user)
                .get_views([(False, "form")])["views"]["form"]["arch"]
            )
            (node,) = etree.fromstring(arch).xpath("//field[@name='server_action_id']")
            return node

        for marketer in (self.user_marketing_manager, self.user_marketing_automation):
            with self.subTest(marketer=marketer.login):
                node = server_action_node(marketer)
                self.assertEqual(node.get("can_create"), "False")
                self.assertEqual(node.get("can_write"), "False")
        self.assertEqual(server_action_node(self.user_admin).get("can_create"), "True")
        help_text = self.env["marketing.activity"]._fields["server_action_id"].help
        self.assertIn("Settings administrators create them", help_text)

    # ------------------------------------------------------------
    # Item 13 (a): Run once per batch needs an action working on `records`
    # ------------------------------------------------------------

    @contextmanager
    def assertBatchRefused(self):
        """The block is refused: the action works on one record at a time."""
        with self.assertRaises(ValidationError) as caught:
            yield
        self.assertIn("several records at once", str(caught.exception))

    def _code_action(self, code, **values):
        return self.env["ir.actions.server"].create(
            {
                "name": "Code",
                "model_id": self.partner_model.id,
                "state": "code",
                "code": code,
                **values,
            }
        )

    def test_run_once_per_batch_needs_records(self):
        campaign = self._create_campaign().with_user(self.user_marketing_automation)
        default_code = self.env["ir.actions.server"].DEFAULT_PYTHON_CODE
        single = [
            self._code_action("record.write({'ref': 'x'})"),
            # Odoo's default code lists `records` in its comments only
            self._code_action(default_code + "record.write({'ref': 'x'})"),
            self._code_action("record.write({'ref': 'records'})"),
            # a multi action running a code action made for one record
            self.env["ir.actions.server"].create(
                {
                    "name": "Multi",
                    "model_id": self.partner_model.id,
                    "state": "multi",
                    "child_ids": [
                        Command.link(self.admin_action.id),
                        Command.link(self._code_action("record.write({'ref': 'x'})").id),
                    ],
                }
            ),
        ]
        for action in single:
            with self.subTest(code=action.sudo().code, state=action.state):
                with self.assertBatchRefused():
                    self._create_activity(
                        campaign, "action", server_action_id=action.id, run_once_per_batch=True
                    )
                activity = self._create_activity(campaign, "action", server_action_id=action.id)
                with self.assertBatchRefused():
                    activity.run_once_per_batch = True
        batch_safe = [
            self.admin_action,
            self._code_action("records.write({'ref': 'x'})"),
            self._code_action(default_code + "for record in records:\n    record.write({})"),
        ]
        for action in batch_safe:
            with self.subTest(code=action.sudo().code, state=action.state):
                activity = self._create_activity(
                    campaign, "action", server_action_id=action.id, run_once_per_batch=True
                )
                self.assertTrue(activity.run_once_per_batch)

    def test_action_run_once_per_batch_keeps_records(self):
        """An administrator who rewrites an action that a campaign runs once per
        batch is told when the code no longer works on ``records``."""
        action = self._code_action("records.write({'ref': 'x'})")
        campaign = self._create_campaign()
        self._create_activity(
            campaign, "action", server_action_id=action.id, run_once_per_batch=True
        )
        with self.assertBatchRefused():
            action.code = "record.write({'ref': 'x'})"
        multi = self.env["ir.actions.server"].create(
            {
                "name": "Multi",
                "model_id": self.partner_model.id,
                "state": "multi",
                "child_ids": [Command.link(action.id)],
            }
        )
        self._create_activity(
            campaign, "action", server_action_id=multi.id, run_once_per_batch=True
        )
        with self.assertBatchRefused():
            multi.child_ids = [Command.link(self._code_action("record.unlink()").id)]
        # code for records, or no code: fine
        action.code = "for partner in records:\n    partner.write({'ref': 'y'})"
        action.write({"state": "object_write", "update_path": "ref", "value": "z"})

    @users("user_marketing_automation")
    def test_welcome_flow_removes_bounced_addresses_per_batch(self):
        """The Welcome Flow's *Remove bounced address* works once per batch:
        every bounced address of the batch is blacklisted."""
        newsletter = self.env["mailing.list"].sudo().create({"name": "Welcome list"})
        contacts = (
            self.env["mailing.contact"]
            .sudo()
            .create(
                [{"name": f"Bouncer {i}", "email": f"bouncer.{i}@example.com"} for i in range(3)]
            )
        )
        contacts.list_ids = newsletter
        # one address was blacklisted once, then taken out of the blacklist
        self.env["mail.blacklist"].sudo().create(
            {"email": "bouncer.2@example.com", "active": False}
        )
        with freeze_time(self.reference_now) as frozen, self.mock_mail_gateway():
            Campaign = self.env["marketing.campaign"]
            campaign = Campaign.browse(
                Campaign.action_create_campaign_from_template("welcome")["res_id"]
            )
            campaign.domain = repr([("id", "in", contacts.ids)])
            welcome, remove = campaign.marketing_activity_ids.sorted("sequence")
            self.assertEqual(remove.name, "Remove bounced address")
            remove.run_once_per_batch = True
            self._start(campaign)
            frozen.tick(timedelta(hours=1))
            campaign.execute_activities()
            self._send_queued_mails()
            # sudo: bounces come from the mail gateway
            self._traces(welcome).mailing_trace_ids.sudo().set_bounced()
            campaign.execute_activities()
        self.assertTraceStates(self._traces(remove), "processed")
        contacts.invalidate_recordset(["is_blacklisted"])
        self.assertEqual(contacts.mapped("is_blacklisted"), [True] * 3)
        blacklist = (
            self.env["mail.blacklist"]
            .sudo()
            .search([("email", "in", contacts.mapped("email_normalized"))])
        )
        self.assertEqual(len(blacklist), 3)
        for entry in blacklist:
            self.assertIn(
                "The welcome email of a marketing campaign bounced.",
                "".join(entry.message_ids.mapped("body")),
            )

    # ------------------------------------------------------------
    # Item 13 (b): a list a campaign adds contacts to is kept
    # ------------------------------------------------------------

    @users("user_marketing_automation")
    def test_confirmed_list_kept_while_double_opt_in_uses_it(self):
        Campaign = self.env["marketing.campaign"]
        campaign = Campaign.browse(
            Campaign.action_create_campaign_from_template("double_opt_in")["res_id"]
        )
        confirmed = self.env["mailing.list"].search([("name", "=", "Confirmed contacts")])
        self.assertEqual(len(confirmed), 1)
        other = self.env["mailing.list"].create({"name": "Unused"})
        with self.assertRaises(UserError) as caught:
            (confirmed + other).unlink()
        self.assertIn("Confirmed contacts", str(caught.exception))
        self.assertIn("Double Opt-in", str(caught.exception))
        self.assertTrue(confirmed.exists())
        add_to_list = campaign.marketing_activity_ids.filtered("mailing_list_id")
        self.assertEqual(add_to_list.mailing_list_id, confirmed)
        # once no campaign's step uses it, the list can go
        other.unlink()
        # (the demo's Double Opt-in campaign uses it too)
        users_of_list = (
            self.env["marketing.activity"]
            .with_user(self.user_admin)
            .search([("mailing_list_id", "=", confirmed.id)])
        )
        self.assertIn(add_to_list, users_of_list)
        users_of_list.mailing_list_id = self.env["mailing.list"].create({"name": "Elsewhere"})
        confirmed.unlink()
        self.assertFalse(confirmed.exists())
