from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import MarketingAutomationCommon


@tagged("marketing_automation", "post_install", "-at_install")
class TestExperimentsUi(MarketingAutomationCommon):
    """What the screens show of A/B splits and goals: the split results in
    the workflow editor's figures, the branch and the goal of each participant
    in the reports and on the test screen."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.crowd = cls.env["res.partner"].create(
            [
                {"name": f"Crowd {index}", "email": f"crowd.{index}@example.com"}
                for index in range(80)
            ]
        )
        cls.user_marketing_b = mail_new_test_user(
            cls.env,
            login="experiments_ui_user_b",
            name="Bea CompanyB",
            groups="base.group_user,base.group_partner_manager,"
            "marketing_automation_community.group_marketing_automation_user",
            company_id=cls.company_2.id,
            company_ids=[(6, 0, cls.company_2.ids)],
        )

    def _split_campaign(self, records=None):
        """A running campaign whose root is a 50/50 split of two emails sent at
        once, run over ``records`` (the crowd by default)."""
        records = records if records is not None else self.crowd
        campaign = self._create_campaign(domain=[("id", "in", records.ids)])
        split = self._create_activity(campaign, "split", name="Split", mass_mailing_id=False)
        branches = self.env["marketing.activity"]
        for name in ("Branch A", "Branch B"):
            branches |= self._create_activity(
                campaign,
                "email",
                parent=split,
                name=name,
                split_weight=50,
                mass_mailing_id=self._create_marketing_mailing(name, "mail").id,
                interval_number=0,
            )
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            self._run_campaign(campaign)
            self._send_queued_mails()
        return campaign, split, branches

    def test_workflow_metrics_hold_the_split_results(self):
        """One call of the editor gives each split its branches side by side."""
        campaign, split, branches = self._split_campaign()
        metrics = campaign.get_workflow_metrics()
        self.assertEqual(metrics[split.id]["split_results"], split.get_split_results())
        self.assertFalse(metrics[split.id]["split_on_goal"])
        results = metrics[split.id]["split_results"]
        self.assertEqual([r["activity_id"] for r in results], branches.ids)
        self.assertEqual(sum(r["participants"] for r in results), 80)
        self.assertTrue(all(r["sent"] == r["participants"] > 0 for r in results))
        for branch in branches:
            self.assertNotIn("split_results", metrics[branch.id])
        campaign.goal_domain = "[('ref', '=', 'won')]"
        self.assertTrue(campaign.get_workflow_metrics()[split.id]["split_on_goal"])

    def test_workflow_metrics_of_another_company_refused(self):
        campaign, _split, _branches = self._split_campaign()
        with self.assertRaises(AccessError):
            campaign.with_user(self.user_marketing_b).get_workflow_metrics()

    def test_branch_recorded_and_reported_with_the_goal(self):
        """Each participant records the branch it went down, in the statement
        that chose it; the reports group participants by branch and by goal
        reached, and sum the goals."""
        campaign, split, branches = self._split_campaign()
        participants = campaign.participant_ids
        for participant in participants:
            [branch_trace] = participant.trace_ids.filtered(lambda t: t.activity_id in branches)
            self.assertEqual(participant.branch_id, branch_trace.activity_id)
        in_a = participants.filtered(lambda p: p.branch_id == branches[0])
        in_b = participants - in_a
        self.assertTrue(in_a and in_b)
        # the goal: 5 of branch A, 1 of branch B
        won = in_a[:5] | in_b[:1]
        self.env["res.partner"].browse(won.mapped("res_id")).write({"ref": "won"})
        campaign.goal_domain = "[('ref', '=', 'won')]"
        campaign.participant_ids.sudo().state = "running"
        campaign.sync_participants()
        self.assertEqual(won.mapped("goal_reached"), [True] * 6)
        self.assertEqual(
            self.env["marketing.participant"].search(
                [("campaign_id", "=", campaign.id), ("goal_reached", "=", True)]
            ),
            won,
        )
        Participant = self.env["marketing.participant"]
        by_branch = {
            branch: (count, goals)
            for branch, count, goals in Participant._read_group(
                [("campaign_id", "=", campaign.id)],
                ["branch_id"],
                ["__count", "goal_reached_count:sum"],
            )
        }
        self.assertEqual(by_branch[branches[0]], (len(in_a), 5))
        self.assertEqual(by_branch[branches[1]], (len(in_b), 1))
        by_goal = dict(
            Participant._read_group(
                [("campaign_id", "=", campaign.id)], ["goal_reached"], ["__count"]
            )
        )
        self.assertEqual(by_goal, {True: 6, False: 74})
        # the report offers them: a group-by and a measure
        described = Participant.fields_get(["goal_reached", "goal_reached_count", "branch_id"])
        self.assertTrue(described["goal_reached"]["groupable"])
        self.assertEqual(described["goal_reached_count"]["aggregator"], "sum")
        self.assertTrue(described["branch_id"]["groupable"])
        action = self.env.ref("marketing_automation_community.marketing_participant_report_action")
        self.assertIn("'goal_reached_count'", action.context)
        with self.assertRaises(UserError):
            Participant.search([("goal_reached", "in", [True])])
        # the split's results count the goal per branch as well
        results = {r["activity_id"]: r for r in split.get_split_results()}
        self.assertEqual(results[branches[0].id]["goal_reached"], 5)

    def test_branch_is_the_engines(self):
        """A user cannot move a participant to another branch."""
        campaign, _split, branches = self._split_campaign(self.crowd[:10])
        participant = campaign.participant_ids.filtered(lambda p: p.branch_id == branches[0])[:1]
        other = campaign.participant_ids.filtered(lambda p: p.branch_id == branches[1])[:1]
        self.assertTrue(participant and other)
        for user in (self.user_marketing_automation, self.user_admin):
            with self.assertRaises(AccessError):
                participant.with_user(user).write({"branch_id": branches[1].id})
        self.assertEqual(participant.branch_id, branches[0])

    def test_test_participant_shows_its_branch(self):
        """Run on a test's split: the split trace names the branch and the
        test participant records it, as the test screen shows."""
        campaign, split, branches = self._split_campaign(self.crowd[:10])
        record = self.crowd[0]
        real_branch = self._participant(campaign, record).branch_id
        self.assertIn(real_branch, branches)
        participant = self._launch_test(campaign, record)
        self.assertFalse(participant.branch_id)
        split_trace = participant.trace_ids.filtered(lambda t: t.activity_id == split)
        split_trace.action_execute()
        self.assertEqual(split_trace.state_msg, f"Branch: {real_branch.name}")
        self.assertEqual(participant.branch_id, real_branch)
