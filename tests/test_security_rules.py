import ast
from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time
from psycopg2.errors import DeadlockDetected

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged, users

from ..models.marketing_filter_mixin import PARSED_FILTERS_CACHE
from ..tools.filter_eval import FilterEvaluator
from ..tools.filter_words import describe_domain
from .common import MarketingAutomationCommon

ADDON = "odoo.addons.marketing_automation_community"
CAMPAIGN_LOGGER = f"{ADDON}.models.marketing_campaign"


@tagged("marketing_automation", "post_install", "-at_install")
class TestSecurityRules(MarketingAutomationCommon):
    """Issue #15, items 3, 6, 7, 9, 10 and 13: each attack performed by the
    marketing user on a campaign of the administrator, and its outcome."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._set_up_two_companies("rules")
        # a contact of company A that the marketing user may not read (a record
        # rule of a group of his), but the administrator may
        cls.secret = cls.env["res.partner"].create(
            {"name": "Secret Contact", "email": "secret@example.com"}
        )
        cls.group_no_secret = cls.env["res.groups"].create(
            {"name": "No secret contacts", "users": [(4, cls.user_marketing_automation.id)]}
        )
        cls.env["ir.rule"].create(
            {
                "name": "No secret contacts",
                "model_id": cls.partner_model.id,
                "groups": [(4, cls.group_no_secret.id)],
                "domain_force": "[('email', 'not ilike', 'secret')]",
            }
        )
        cls.email_field = cls.env["ir.model.fields"]._get("res.partner", "email")
        # the administrator's running campaign, with processed traces
        cls.admin_campaign = cls._create_campaign(
            domain=[("id", "in", (cls.contacts | cls.secret).ids)],
            name="Admin's",
            user_id=cls.user_admin.id,
            unique_field_id=cls.email_field.id,
        )
        cls.admin_root = cls._create_activity(cls.admin_campaign, "email", name="Welcome")
        campaign = cls.admin_campaign.with_user(cls.user_admin)
        campaign.action_start_campaign()
        campaign.sync_participants()
        campaign.execute_activities()

    def _admin_campaign(self):
        return self.admin_campaign.with_env(self.env)

    # ------------------------------------------------------------
    # 3. Responsibility bypass
    # ------------------------------------------------------------

    @users("user_marketing_automation")
    def test_engine_write_with_unchanged_responsible(self):
        """Passing the unchanged responsible with a new filter is refused; a
        filter changed without it makes the writer responsible."""
        campaign = self._admin_campaign()
        original_domain = campaign.domain
        with self.assertRaises(AccessError):
            campaign.write({"domain": "[('id', '>', 0)]", "user_id": self.user_admin.id})
        self.assertEqual(campaign.domain, original_domain)
        self.assertEqual(campaign.user_id, self.user_admin)

        campaign.write({"domain": "[('id', '>', 0)]", "user_id": self.env.uid})
        self.assertEqual(campaign.user_id, self.env.user)

    @users("user_marketing_automation")
    def test_engine_write_makes_writer_responsible(self):
        campaign = self._admin_campaign()
        campaign.write({"domain": "[('id', '>', 0)]", "name": "Renamed"})
        self.assertEqual(campaign.user_id, self.env.user)

    def test_settings_administrator_names_responsible(self):
        """A Settings administrator may still change the filter and name
        someone else responsible at once."""
        campaign = self.admin_campaign.with_user(self.user_admin)
        campaign.write({"domain": "[('id', '>', 0)]", "user_id": self.user_marketing_automation.id})
        self.assertEqual(campaign.user_id, self.user_marketing_automation)

    @users("user_marketing_automation")
    def test_state_written_directly_is_refused(self):
        campaign = self._admin_campaign()
        campaign.action_stop_campaign()
        for state in ("running", "draft"):
            with self.subTest(state=state), self.assertRaises(AccessError):
                campaign.write({"state": state})
        self.assertEqual(campaign.state, "stopped")
        with self.assertRaises(AccessError):
            self.env["marketing.campaign"].create(
                {
                    "name": "Born running",
                    "model_id": self.partner_model.id,
                    "user_id": self.env.uid,
                    "state": "running",
                }
            )
        self.assertFalse(self.env["marketing.campaign"].search([("name", "=", "Born running")]))
        # a remote call cannot forge the key of Start and Stop
        with self.assertRaises(AccessError):
            campaign.with_context(marketing_automation_state_change=True).write(
                {"state": "running"}
            )
        self.assertEqual(campaign.state, "stopped")

    @users("user_marketing_automation")
    def test_start_and_stop_still_change_the_state(self):
        campaign = self._create_campaign(name="Mine").with_env(self.env)
        self._create_activity(campaign, "action")
        campaign.action_start_campaign()
        self.assertEqual(campaign.state, "running")
        campaign.action_stop_campaign()
        self.assertEqual(campaign.state, "stopped")

    @users("user_marketing_automation")
    def test_engine_calls_on_someone_else_campaign(self):
        """The public engine methods run with the responsible's rights: the
        marketing user cannot have them run on the administrator's campaign."""
        newcomer = self.env["res.partner"].sudo().create({"name": "New", "email": "n@example.com"})
        self.admin_campaign.sudo().domain = repr([("id", "in", (self.contacts | newcomer).ids)])
        campaign = self._admin_campaign()
        participants = campaign.sudo().participant_ids
        for method in ("sync_participants", "execute_activities"):
            with self.subTest(method=method), self.assertRaises(AccessError):
                getattr(campaign, method)()
        self.assertEqual(campaign.sudo().participant_ids, participants)
        self.assertEqual(campaign.user_id, self.user_admin)
        # a Marketing Automation administrator may, and so may the scheduler
        campaign.with_user(self.user_marketing_manager).sync_participants()
        self.assertIn(newcomer.id, campaign.sudo().participant_ids.mapped("res_id"))

    def test_scheduler_runs_the_engine(self):
        newcomer = self.env["res.partner"].create({"name": "New", "email": "n@example.com"})
        self.admin_campaign.domain = repr([("id", "in", (self.contacts | newcomer).ids)])
        with self.mock_mail_gateway():
            self._run_cron()
        self.assertFalse(self.admin_campaign.scheduler_error)
        participant = self._participant(self.admin_campaign, newcomer)
        self.assertEqual(participant.trace_ids.state, "processed")

    def test_unique_value_follows_the_record(self):
        """The unicity value of a record the reader cannot read is not shown,
        searched, nor exported, as its name is not."""
        participant = self._participant(self.admin_campaign, self.secret)
        self.assertEqual(participant.unique_value, "secret@example.com")
        readable = self._participant(self.admin_campaign, self.contacts[0])
        Participant = self.env["marketing.participant"].with_user(self.user_marketing_automation)
        secret, contact = Participant.browse(participant.id), Participant.browse(readable.id)

        values = {row["id"]: row for row in (secret + contact).read(["unique_value"])}
        self.assertFalse(values[secret.id]["unique_value"])
        self.assertEqual(values[contact.id]["unique_value"], "contact.0@example.com")
        self.assertEqual(secret.display_name, "Restricted record")
        found = Participant.search_read([("id", "=", secret.id)], ["unique_value"])
        self.assertFalse(found[0]["unique_value"])
        for operator, value in (("=", "secret@example.com"), ("ilike", "secret")):
            with self.subTest(operator=operator):
                self.assertFalse(Participant.search([("unique_value", operator, value)]))
        self.assertFalse(Participant.name_search("secret"))
        self.assertEqual(Participant.search([("unique_value", "ilike", "contact.0@")]), contact)
        self.user_marketing_automation.groups_id = [(4, self.env.ref("base.group_allow_export").id)]
        self.assertEqual(
            (secret + contact).export_data(["unique_value"])["datas"],
            [[""], ["contact.0@example.com"]],
        )
        with self.assertRaises(AccessError):
            secret.read(["unique_key"])
        with self.assertRaises(AccessError):
            Participant.search([("unique_key", "=", "secret@example.com")])

    # ------------------------------------------------------------
    # 6. Deleting someone else's history
    # ------------------------------------------------------------

    @users("user_marketing_automation")
    def test_delete_activity_with_traces(self):
        campaign = self._admin_campaign()
        root = self.admin_root.with_env(self.env)
        with self.assertRaises(AccessError) as caught:
            root.unlink()
        self.assertIn("has 4 traces", str(caught.exception))
        self.assertTrue(root.exists())
        self.assertEqual(len(root.sudo().trace_ids), 4)
        # refused before anything else: the user did not become responsible
        self.assertEqual(campaign.user_id, self.user_admin)

    @users("user_marketing_automation")
    def test_delete_child_activity_counts_descendants(self):
        campaign = self._create_campaign(name="Mine").with_env(self.env)
        root = self._create_activity(campaign, "action")
        child = self._create_activity(campaign, "action", parent=root)
        self._run_campaign(campaign)
        self.assertEqual(len(child.trace_ids), 3)
        with self.assertRaises(AccessError) as caught:
            root.unlink()
        self.assertIn("has 6 traces", str(caught.exception))
        self.assertTrue((root + child).exists())
        child.with_user(self.user_marketing_manager).unlink()
        self.assertFalse(child.exists())

    @users("user_marketing_automation")
    def test_delete_activity_with_test_traces_only(self):
        campaign = self._create_campaign(name="Mine").with_env(self.env)
        root = self._create_activity(campaign, "action")
        self._launch_test(campaign, self.contacts[0])
        self.assertTrue(root.trace_ids)
        root.unlink()
        self.assertFalse(root.exists())

    @users("user_marketing_automation")
    def test_delete_campaign_with_participants(self):
        campaign = self._create_campaign(name="Mine").with_env(self.env)
        self._create_activity(campaign, "action")
        self._run_campaign(campaign)
        with self.assertRaises(UserError) as caught:
            campaign.unlink()
        self.assertIn("stop it first", str(caught.exception))
        campaign.action_stop_campaign()
        with self.assertRaises(AccessError) as caught:
            campaign.unlink()
        self.assertIn("has 3 participants", str(caught.exception))
        self.assertTrue(campaign.exists())
        self.assertEqual(len(campaign.participant_ids), 3)
        campaign.with_user(self.user_marketing_manager).unlink()
        self.assertFalse(campaign.exists())

    @users("user_marketing_automation")
    def test_delete_own_campaign_without_participants(self):
        campaign = self._create_campaign(name="Mine").with_env(self.env)
        self._create_activity(campaign, "action")
        campaign.unlink()
        self.assertFalse(campaign.exists())

    @users("user_marketing_automation")
    def test_delete_someone_else_campaign(self):
        campaign = self._admin_campaign()
        with self.assertRaises(UserError) as caught:
            campaign.unlink()
        self.assertIn("stop it first", str(caught.exception))
        campaign.action_stop_campaign()
        with self.assertRaises(AccessError):
            campaign.unlink()
        self.assertTrue(campaign.exists())
        self.assertEqual(len(campaign.sudo().participant_ids), 4)

    def test_running_campaign_is_stopped_first_by_managers_too(self):
        campaign = self.admin_campaign.with_user(self.user_marketing_manager)
        with self.assertRaises(UserError):
            campaign.unlink()
        self.assertTrue(campaign.exists())

    # ------------------------------------------------------------
    # 7. Unbounded work
    # ------------------------------------------------------------

    @users("user_marketing_automation")
    def test_huge_filter_refused(self):
        campaign = self._create_campaign(name="Mine").with_env(self.env)
        activity = self._create_activity(campaign, "action").with_env(self.env)
        # about 1 MB: 20,000 characters at most
        huge = "[" + "('id', '!=', 0), " * 58_000 + "]"
        self.assertGreater(len(huge), 980_000)
        with patch("ast.parse", wraps=ast.parse) as parse:
            for record in (campaign, activity):
                with self.subTest(model=record._name), self.assertRaises(ValidationError) as caught:
                    record.domain = huge
                self.assertIn("too long", str(caught.exception))
            with self.assertRaises(ValidationError):
                self.env["marketing.favorite.filter"].create(
                    {"name": "Huge", "model_id": self.partner_model.id, "domain": huge}
                )
        self.assertFalse([call for call in parse.call_args_list if len(call.args[0]) > 20_000])
        self.assertEqual(campaign.domain, repr([("id", "in", self.contacts.ids)]))

    @users("user_marketing_automation")
    def test_deep_workflow_refused(self):
        campaign = self._create_campaign(name="Deep").with_env(self.env)
        parent = self._create_activity(campaign, "action", name="Level 1")
        for level in range(2, 51):
            parent = self._create_activity(campaign, "action", parent=parent, name=f"Level {level}")
        with self.assertRaises(ValidationError) as caught:
            self._create_activity(campaign, "action", parent=parent, name="Level 51")
        self.assertIn("at most 50 levels", str(caught.exception))
        self.assertEqual(len(campaign.marketing_activity_ids), 50)
        # moving a branch under the deepest activity is refused too
        root = campaign.marketing_activity_ids.filtered(lambda a: not a.parent_id)
        branch = self._create_activity(campaign, "action", name="Branch")
        self._create_activity(campaign, "action", parent=branch, name="Branch child")
        with self.assertRaises(ValidationError):
            branch.write({"trigger_type": "activity", "parent_id": parent.id})
        self.assertFalse(branch.parent_id)
        self.assertEqual(len(root), 1)

    @users("user_marketing_automation")
    def test_workflow_size_refused(self):
        campaign = self._create_campaign(name="Wide").with_env(self.env)
        values = {
            "campaign_id": campaign.id,
            "activity_type": "action",
            "server_action_id": self.server_action.id,
            "interval_number": 0,
        }
        with patch(f"{ADDON}.models.marketing_activity.MAX_CAMPAIGN_ACTIVITIES", 5):
            self.env["marketing.activity"].create(
                [dict(values, name=f"Step {index}") for index in range(5)]
            )
            with self.assertRaises(ValidationError) as caught:
                self.env["marketing.activity"].create(dict(values, name="Step 6"))
        self.assertIn("more than 5 activities", str(caught.exception))
        self.assertEqual(len(campaign.marketing_activity_ids), 5)

    @users("user_marketing_automation")
    def test_each_filter_parsed_once_whatever_the_depth(self):
        """The applied filter of every activity of a chain joins the filters
        of its ancestors: each is parsed once, however deep the chain."""
        calls = {}
        for depth in (5, 20):
            campaign = self._create_campaign(name=f"Depth {depth}").with_env(self.env)
            parent = None
            for level in range(depth):
                parent = self._create_activity(
                    campaign,
                    "action",
                    parent=parent,
                    name=f"Level {level}",
                    domain="[('id', '>', 0)]",
                )
            self.env.invalidate_all()
            self.env.cr.cache.pop(PARSED_FILTERS_CACHE, None)
            with patch.object(
                FilterEvaluator, "evaluate", autospec=True, side_effect=FilterEvaluator.evaluate
            ) as evaluate:
                campaign.marketing_activity_ids.mapped("applied_domain")
            calls[depth] = evaluate.call_count
        self.assertEqual(calls[5], calls[20])
        self.assertLessEqual(calls[20], 2)

    # ------------------------------------------------------------
    # 9. Favorite filters
    # ------------------------------------------------------------

    def test_deeply_nested_favorite_filter(self):
        """A favorite filter of 1,200 nested '!' is described like any other;
        a filter nested deeper than the evaluator's bound is refused."""
        Favorite = self.env["marketing.favorite.filter"]
        nested = repr(["!"] * 1200 + [("id", "=", 0)])
        favorite = Favorite.with_user(self.user_marketing_manager).create(
            {"name": "Nested", "model_id": self.partner_model.id, "domain": nested}
        )
        Favorite = Favorite.with_user(self.user_marketing_automation)
        rows = Favorite.search_read([("id", "=", favorite.id)], ["domain_description"])
        self.assertTrue(rows[0]["domain_description"].startswith("not (not ("))
        words = describe_domain(
            self.env["res.partner"], ["!"] * 5000 + [("id", "=", 0)], self.env._
        )
        self.assertTrue(words.endswith(")" * 5000))
        deep = "[('id', '=', " + "-" * 100 + "1)]"
        with self.assertRaises(ValidationError) as caught:
            Favorite.create({"name": "Deep", "model_id": self.partner_model.id, "domain": deep})
        self.assertIn("nested too deeply", str(caught.exception))

    def test_favorite_filters_belong_to_a_company(self):
        Favorite = self.env["marketing.favorite.filter"]
        favorite_a = Favorite.with_user(self.user_marketing_automation).create(
            {"name": "A's", "model_id": self.partner_model.id, "domain": "[('id', '>', 0)]"}
        )
        self.assertEqual(favorite_a.company_id, self.company_a)
        favorite_b = Favorite.with_user(self.user_marketing_b).create(
            {"name": "B's", "model_id": self.partner_model.id, "domain": "[('id', '>', 0)]"}
        )
        self.assertEqual(favorite_b.company_id, self.company_b)
        self.assertNotIn(favorite_a, Favorite.with_user(self.user_marketing_b).search([]))
        with self.assertRaises(AccessError):
            favorite_a.with_user(self.user_marketing_b).read(["domain"])
        with self.assertRaises(AccessError):
            Favorite.with_user(self.user_marketing_b).create(
                {
                    "name": "Into A",
                    "model_id": self.partner_model.id,
                    "domain": "[]",
                    "company_id": self.company_a.id,
                }
            )
        # saved from a campaign: in the campaign's company
        campaign = self._create_campaign(name="Mine").with_user(self.user_marketing_automation)
        action = campaign.action_save_as_favorite_filter()
        saved = Favorite.with_user(self.user_marketing_automation).with_context(**action["context"])
        saved = saved.create({})
        self.assertEqual(saved.company_id, campaign.company_id)

    # ------------------------------------------------------------
    # 10. The engine's states and dates
    # ------------------------------------------------------------

    @users("user_marketing_automation")
    def test_processed_trace_cannot_be_rescheduled(self):
        trace = self._traces(self.admin_root, self.contacts[0]).with_env(self.env)
        self.assertEqual(trace.state, "processed")
        for vals in (
            {"state": "scheduled", "schedule_date": "2026-01-01"},
            {"state": "scheduled"},
            {"schedule_date": "2026-01-01"},
            {"state_msg": "Forged"},
        ):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                trace.write(vals)
        self.assertEqual(trace.state, "processed")
        with self.mock_mail_gateway(), freeze_time("2026-01-02"):
            self._run_cron()
        self.assertEqual(len(self._new_mails), 0)
        self.assertEqual(len(trace.sudo().mailing_trace_ids), 1)

    @users("user_marketing_automation")
    def test_participant_state_is_the_engine(self):
        participant = self._participant(self.admin_campaign, self.contacts[0]).with_env(self.env)
        with self.assertRaises(AccessError):
            participant.write({"state": "running"})
        self.assertEqual(participant.state, "completed")

    @users("user_marketing_automation")
    def test_buttons_still_change_states(self):
        """Run, Cancel, Stop and Resume remain the user's."""
        campaign = self._create_campaign(name="Mine").with_env(self.env)
        root = self._create_activity(campaign, "action", interval_number=2)
        self._create_activity(campaign, "action", parent=root, trigger_type="activity")
        test_participant = self._launch_test(campaign, self.contacts[0])
        test_participant.trace_ids.action_execute()
        self.assertTraceStates(
            test_participant.trace_ids.filtered(lambda t: t.activity_id == root), "processed"
        )
        self._start(campaign)
        participant = self._participant(campaign, self.contacts[1])
        participant.action_set_completed()
        self.assertEqual(participant.state, "completed")
        self.assertTraceStates(participant.trace_ids, "canceled")
        participant.action_set_running()
        self.assertEqual(participant.state, "running")
        other = self._participant(campaign, self.contacts[2])
        other.trace_ids.action_cancel()
        self.assertTraceStates(other.trace_ids, "canceled", "Canceled manually")

    # ------------------------------------------------------------
    # 13. Deadlocks and unreadable records
    # ------------------------------------------------------------

    def test_deadlock_is_transient(self):
        campaign = self._create_campaign(name="Busy")
        self._create_activity(campaign, "action")
        campaign.action_start_campaign()
        with (
            patch.object(
                type(campaign),
                "_enrol_new_participants",
                autospec=True,
                side_effect=DeadlockDetected("deadlock detected"),
            ),
            self.assertNoLogs(CAMPAIGN_LOGGER, "ERROR"),
        ):
            self._run_cron()
        self.assertFalse(campaign.scheduler_error)
        self.assertFalse(campaign.participant_ids)
        self._run_cron()
        self.assertEqual(len(campaign.participant_ids), 3)

    def test_unreadable_record_says_so(self):
        """A record the responsible can no longer read is rejected with that
        reason, not as a record that does not match the filter."""
        campaign = self._create_campaign(
            domain=[("id", "in", (self.contacts | self.secret).ids)], name="Mine"
        )
        root = self._create_activity(campaign, "action", interval_number=1)
        user = self.user_marketing_automation
        user.groups_id = [(3, self.group_no_secret.id)]
        campaign = campaign.with_user(user)
        with freeze_time(self.reference_now):
            self._start(campaign)
        self.assertEqual(len(campaign.participant_ids), 4)
        user.groups_id = [(4, self.group_no_secret.id)]
        self.contacts[0].ref = "other"
        campaign.sudo().domain = repr(
            [("id", "in", (self.contacts | self.secret).ids), ("ref", "=", False)]
        )
        with freeze_time(self.reference_now + timedelta(hours=2)):
            self._run_cron()
        self.assertTraceStates(
            self._traces(root, self.secret),
            "rejected",
            "The responsible Mireille Automation cannot read",
        )
        self.assertTraceStates(self._traces(root, self.contacts[0]), "rejected", "does not match")
        self.assertTraceStates(self._traces(root, self.contacts[1:]), "processed")
