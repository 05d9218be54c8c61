import hashlib

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from odoo.addons.mail.tests.common import mail_new_test_user

from ..tools.split_stats import two_proportion_p_value
from .common import MarketingAutomationCommon


@tagged("marketing_automation", "post_install", "-at_install")
class TestExperiments(MarketingAutomationCommon):
    """A/B splits (one branch per participant, deterministic, promotion,
    results and significance) and campaign goals."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.crowd = cls.env["res.partner"].create(
            [
                {"name": f"Crowd {index}", "email": f"crowd.{index}@example.com"}
                for index in range(400)
            ]
        )
        cls.user_marketing_other = mail_new_test_user(
            cls.env,
            login="experiments_other",
            name="Otto Other",
            groups="base.group_user,base.group_partner_manager,"
            "marketing_automation_community.group_marketing_automation_user",
        )
        cls.user_employee_only = mail_new_test_user(
            cls.env, login="experiments_employee", name="Emma Employee", groups="base.group_user"
        )

    def _create_split(self, campaign, weights, parent=None, delay=1):
        """A split (root, or child of ``parent``) and one branch per weight,
        each an email ``delay`` days after the split."""
        split = self._create_activity(
            campaign,
            "split",
            parent=parent,
            name="Split",
            mass_mailing_id=False,
        )
        branches = self.env["marketing.activity"]
        for index, weight in enumerate(weights):
            mailing = self._create_marketing_mailing(f"Variant {index}", "mail")
            branches |= self._create_activity(
                campaign,
                "email",
                parent=split,
                name=f"Branch {chr(65 + index)}",
                split_weight=weight,
                mass_mailing_id=mailing.id,
                interval_number=delay,
                interval_type="days",
            )
        return split, branches

    def _branch_of(self, branches):
        """The branch of each record, by record id, from the branch traces."""
        assignment = {}
        for branch in branches:
            for trace in self._traces(branch):
                self.assertNotIn(trace.res_id, assignment, "a participant is in two branches")
                assignment[trace.res_id] = branch
        return assignment

    @staticmethod
    def _expected_bucket(split, record):
        """The documented hash: md5 of the split and the record, in 100 buckets."""
        digest = hashlib.md5(f"{split.id}:record:{record.id}".encode()).hexdigest()  # noqa: S324
        return int(digest[:8], 16) % 100

    def _run(self, campaign):
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            self._run_campaign(campaign)

    # ------------------------------------------------------------
    # Splits
    # ------------------------------------------------------------

    def test_split_distribution_and_one_branch_each(self):
        campaign = self._create_campaign(domain=[("id", "in", self.crowd.ids)])
        split, branches = self._create_split(campaign, [50, 50])
        self._run(campaign)
        self.assertTraceStates(self._traces(split), "processed", "Branch: ")
        assignment = self._branch_of(branches)
        self.assertEqual(len(assignment), 400, "every participant goes down one branch")
        for branch in branches:
            count = len(self._traces(branch))
            self.assertTrue(160 <= count <= 240, f"{branch.name}: {count} of 400")
            self.assertTraceStates(self._traces(branch), "scheduled")
        # the split trace names the branch it chose
        for trace in self._traces(split)[:20]:
            self.assertEqual(trace.state_msg, f"Branch: {assignment[trace.res_id].name}")

    def test_split_uneven_shares_and_three_branches(self):
        campaign = self._create_campaign(domain=[("id", "in", self.crowd.ids)])
        _split, branches = self._create_split(campaign, [20, 30, 50])
        self._run(campaign)
        counts = [len(self._traces(branch)) for branch in branches]
        self.assertEqual(sum(counts), 400)
        for count, expected in zip(counts, (80, 120, 200), strict=True):
            self.assertTrue(abs(count - expected) <= 40, f"{counts}")

    def test_split_deterministic_across_batches_runs_and_update(self):
        """The branch depends on the split and the participant only: the
        documented hash predicts it, another batch size and order gives the
        same, and an Update after a new branch moves nobody."""
        set_param = self.env["ir.config_parameter"].sudo().set_param
        set_param("marketing_automation_community.batch_size", 7)
        records = self.crowd[:60]
        campaign = self._create_campaign(domain=[("id", "in", records.ids)])
        split, branches = self._create_split(campaign, [50, 50])
        self._run(campaign)
        first = self._branch_of(branches)
        for record in records:
            expected = branches[0] if self._expected_bucket(split, record) < 50 else branches[1]
            self.assertEqual(first[record.id], expected)

        # a second run of the same split, in other batches and another order
        split_traces = self._traces(split)
        split_traces.child_ids.sudo().unlink()
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE marketing_trace SET state = 'scheduled', state_msg = NULL, "
            "schedule_date = %s WHERE id = ANY(%s)",
            [self.reference_now, list(reversed(split_traces.ids))],
        )
        self.env.invalidate_all()
        set_param("marketing_automation_community.batch_size", 13)
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            campaign.execute_activities()
        self.assertEqual(self._branch_of(branches), first)

        # a new branch, shares rebalanced, Update: those assigned stay
        branches.write({"split_weight": 40})
        new_branch = self._create_activity(
            campaign, "email", parent=split, name="Branch C", split_weight=20
        )
        with freeze_time(self.reference_now):
            campaign.action_update_participants()
        self.assertFalse(self._traces(new_branch))
        self.assertEqual(self._branch_of(branches), first)

    def test_split_test_participant_run_chooses_like_the_scheduler(self):
        """Run on a test's split trace chooses as the scheduler does: the
        test takes the unicity value of the real participant of its record."""
        campaign = self._create_campaign(
            unique_field_id=self.env["ir.model.fields"]._get("res.partner", "email").id
        )
        split, branches = self._create_split(campaign, [50, 50])
        self._run(campaign)
        record = self.contacts[0]
        real_branch = self._branch_of(branches)[record.id]
        participant = self._launch_test(campaign, record)
        split_trace = participant.trace_ids.filtered(lambda t: t.activity_id == split)
        split_trace.action_execute()
        self.assertEqual(split_trace.state_msg, f"Branch: {real_branch.name}")
        self.assertEqual(
            participant.trace_ids.filtered(lambda t: t.activity_id in branches).activity_id,
            real_branch,
        )

    def test_promote_branch(self):
        campaign = self._create_campaign(domain=[("id", "in", self.crowd[:100].ids)])
        _split, branches = self._create_split(campaign, [50, 50])
        self._run(campaign)
        before = self._branch_of(branches)
        self.assertTrue(len(self._traces(branches[0])) and len(self._traces(branches[1])))
        branches[1].with_user(self.user_marketing_automation).action_promote_branch()
        self.assertTrue(branches[1].split_promoted)
        self.assertIn("promoted", campaign.message_ids[0].body)
        campaign.domain = repr([("id", "in", self.crowd[:200].ids)])
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            campaign.sync_participants()
            campaign.execute_activities()
        after = self._branch_of(branches)
        self.assertEqual(len(after), 200)
        for res_id, branch in after.items():
            self.assertEqual(branch, before.get(res_id, branches[1]))
        # promoting another branch moves the promotion, never a participant
        branches[0].action_promote_branch()
        self.assertEqual(branches.mapped("split_promoted"), [True, False])
        with self.assertRaises(UserError):
            campaign.marketing_activity_ids.filtered(
                lambda a: a.activity_type == "split"
            ).action_promote_branch()

    def test_split_weights_refused(self):
        campaign = self._create_campaign()
        split, branches = self._create_split(campaign, [60, 30])
        with self.assertRaises(ValidationError):
            campaign.action_start_campaign()
        self.assertEqual(campaign.state, "draft")
        with self.assertRaises(ValidationError):
            branches[0].split_weight = 150
        with self.assertRaises(ValidationError):
            branches[0].split_weight = -10
        branches[0].split_weight = 70
        self._run(campaign)
        self.assertTraceStates(self._traces(split), "processed")
        # changed while running: the split refuses to choose, with the reason
        branches[0].split_weight = 20
        self.assertIn("must sum to 100", split._get_content_problem())
        test = self._launch_test(campaign, self.contacts[0])
        test.trace_ids.action_execute()
        self.assertTraceStates(test.trace_ids, "rejected", "must sum to 100")
        # a split has no content
        with self.assertRaises(ValidationError):
            split.mass_mailing_id = self._create_marketing_mailing("Split content", "mail")

    def test_template_ab_test_welcome(self):
        newsletter = self.env["mailing.list"].create({"name": "A/B newsletter"})
        subscribers = self.env["mailing.contact"].create(
            [
                {
                    "name": f"Subscriber {index}",
                    "email": f"ab.subscriber.{index}@example.com",
                    "list_ids": [newsletter.id],
                }
                for index in range(60)
            ]
        )
        Campaign = self.env["marketing.campaign"].with_user(self.user_admin)
        campaign = Campaign._create_campaign_from_blueprint("ab_test_welcome")
        campaign.domain = repr([("id", "in", subscribers.ids)])
        split = campaign.marketing_activity_ids.filtered(lambda a: a.activity_type == "split")
        branches = split._get_split_branches()
        self.assertEqual(branches.mapped("split_weight"), [50, 50])
        self.assertEqual(len(branches.mass_mailing_id), 2)
        self._run(campaign)
        assignment = self._branch_of(branches)
        self.assertEqual(len(assignment), 60)
        self.assertEqual(set(assignment.values()), set(branches))

    # ------------------------------------------------------------
    # Goals
    # ------------------------------------------------------------

    def test_goal_cancels_the_rest_and_rate(self):
        campaign = self._create_campaign(goal_domain="[('ref', '=', 'won')]")
        first = self._create_activity(campaign, "email", name="First")
        second = self._create_activity(
            campaign, "email", parent=first, name="Second", interval_number=1, interval_type="days"
        )
        second.mass_mailing_id = self._create_marketing_mailing("Second email", "mail")
        self._run(campaign)
        self.assertTraceStates(self._traces(first), "processed")
        self.contacts[0].ref = "won"
        with freeze_time(self.reference_now):
            campaign.sync_participants()
        participant = self._participant(campaign, self.contacts[0])
        self.assertEqual(participant.state, "completed")
        self.assertEqual(participant.goal_reached_date, self.reference_now)
        self.assertTraceStates(self._traces(second, self.contacts[0]), "canceled", "Goal reached")
        self.assertTraceStates(self._traces(second, self.contacts[1:]), "scheduled")
        self.assertEqual(campaign.goal_participant_count, 1)
        self.assertAlmostEqual(campaign.goal_rate, 100 / 3, places=1)
        # Update never resumes a participant who reached the goal
        campaign.action_update_participants()
        self.assertEqual(participant.state, "completed")

    def test_goal_checked_before_a_trace_runs(self):
        campaign = self._create_campaign(goal_domain="[('ref', '=', 'won')]")
        first = self._create_activity(campaign, "email", name="First")
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            self._start(campaign)
            self.contacts[1].ref = "won"
            campaign.execute_activities()
        self.assertTraceStates(self._traces(first, self.contacts[1]), "canceled", "Goal reached")
        self.assertTraceStates(
            self._traces(first, self.contacts[0] | self.contacts[2]), "processed"
        )
        self.assertEqual(self._participant(campaign, self.contacts[1]).state, "completed")
        # a test participant shows its goal reached too
        test = self._launch_test(campaign, self.contacts[1])
        test.trace_ids.action_execute()
        self.assertTrue(test.goal_reached_date)
        self.assertTraceStates(test.trace_ids, "canceled", "Goal reached")

    def test_goal_domain_checked_and_empty_is_no_goal(self):
        campaign = self._create_campaign(goal_domain="[]")
        self.assertFalse(campaign._has_goal())
        first = self._create_activity(campaign, "email")
        self._run(campaign)
        self.assertTraceStates(self._traces(first), "processed")
        self.assertFalse(campaign.participant_ids.filtered("goal_reached_date"))
        with self.assertRaises(ValidationError):
            campaign.goal_domain = "[('no_such_field', '=', 1)]"
        with self.assertRaises(ValidationError):
            campaign.goal_domain = "[('id', '=', user.id)]"
        with self.assertRaises(ValidationError):
            campaign.goal_domain = "[" * 5000 + "]" * 5000

    def test_conversion_per_branch_and_results(self):
        campaign = self._create_campaign(domain=[("id", "in", self.crowd[:100].ids)])
        split, branches = self._create_split(campaign, [50, 50], delay=0)
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            self._run_campaign(campaign)
            self._send_queued_mails()
        assignment = self._branch_of(branches)
        results = {r["activity_id"]: r for r in split.get_split_results()}
        for branch in branches:
            members = [res_id for res_id, b in assignment.items() if b == branch]
            self.assertEqual(results[branch.id]["participants"], len(members))
            self.assertEqual(results[branch.id]["sent"], len(members))
            self.assertEqual(results[branch.id]["goal_reached"], 0)
        # the goal: 10 of branch A, 2 of branch B
        members = {
            branch: [res_id for res_id, b in assignment.items() if b == branch]
            for branch in branches
        }
        won = members[branches[0]][:10] + members[branches[1]][:2]
        self.env["res.partner"].browse(won).write({"ref": "won"})
        campaign.goal_domain = "[('ref', '=', 'won')]"
        # completed participants (their journey ended) no longer convert: resume them
        campaign.participant_ids.sudo().state = "running"
        campaign.sync_participants()
        results = split.get_split_results()
        by_branch = {r["activity_id"]: r for r in results}
        self.assertEqual(by_branch[branches[0].id]["goal_reached"], 10)
        self.assertEqual(by_branch[branches[1].id]["goal_reached"], 2)
        self.assertEqual(campaign.goal_participant_count, 12)
        # 100 participants 50/50: both branches have the minimum (30) for a p-value
        self.assertGreaterEqual(min(len(m) for m in members.values()), 30)
        self.assertTrue(by_branch[branches[0].id]["best"])
        self.assertEqual(by_branch[branches[0].id]["p_value"], 1.0)
        self.assertEqual(
            by_branch[branches[1].id]["p_value"],
            two_proportion_p_value(2, len(members[branches[1]]), 10, len(members[branches[0]])),
        )
        self.assertIn("Best", split.split_results_html)

    def test_p_value_needs_enough_participants(self):
        campaign = self._create_campaign()
        split, _branches = self._create_split(campaign, [50, 50], delay=0)
        self._run(campaign)
        for result in split.get_split_results():
            self.assertIsNone(result["p_value"])
            self.assertFalse(result["best"])
        self.assertIn("Not enough data yet", split.split_results_html)

    # ------------------------------------------------------------
    # Security
    # ------------------------------------------------------------

    def test_goal_change_makes_the_editor_responsible(self):
        campaign = self._create_campaign(name="Admin's", user_id=self.user_admin.id)
        self._create_activity(campaign, "email")
        self.assertEqual(campaign.user_id, self.user_admin)
        campaign.with_user(self.user_marketing_automation).goal_domain = "[('ref', '=', 'won')]"
        self.assertEqual(campaign.user_id, self.user_marketing_automation)
        # passing the same value does not escape the rule either
        campaign.user_id = self.user_admin
        campaign.with_user(self.user_marketing_other).write({"goal_domain": campaign.goal_domain})
        self.assertEqual(campaign.user_id, self.user_marketing_other)
        with self.assertRaises(AccessError):
            campaign.with_user(self.user_employee_only).goal_domain = "[]"

    def test_promote_takes_responsibility_or_is_refused(self):
        campaign = self._create_campaign(name="Admin's", user_id=self.user_admin.id)
        _split, branches = self._create_split(campaign, [50, 50])
        campaign.user_id = self.user_admin
        branches[0].with_user(self.user_marketing_other).action_promote_branch()
        self.assertEqual(campaign.user_id, self.user_marketing_other)
        self.assertTrue(branches[0].split_promoted)
        with self.assertRaises(AccessError):
            branches[1].with_user(self.user_employee_only).action_promote_branch()
        self.assertFalse(branches[1].split_promoted)
        self.assertEqual(campaign.user_id, self.user_marketing_other)
        # the promotion is not written directly
        with self.assertRaises(AccessError):
            branches[1].with_user(self.user_employee_only).write({"split_promoted": True})
        self.assertFalse(branches[1].split_promoted)
