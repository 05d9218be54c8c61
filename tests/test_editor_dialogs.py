from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged, users

from .common import MarketingAutomationCommon


@tagged("marketing_automation", "post_install", "-at_install")
class TestEditorDialogs(MarketingAutomationCommon):
    """What the campaign screens say before and after an action: the delete
    confirmation, Update's summary, a new target, a new favorite filter, the
    activity dialog's refusals and the events a test can still simulate."""

    @users("user_marketing_automation")
    def test_delete_confirmation_names_what_goes(self):
        campaign = self._create_campaign().with_env(self.env)
        root = self._create_activity(campaign, "email")
        self._create_activity(campaign, "sms", parent=root)
        empty = self._create_campaign(name="Empty").with_env(self.env)
        self.assertEqual(
            empty.get_delete_confirmation(),
            {
                "can_delete": True,
                "title": "Delete campaign Empty?",
                "body": "Nobody took part yet: no participant history is lost. This cannot be "
                "undone. To keep the history, archive instead of deleting.",
            },
        )
        with freeze_time(self.reference_now), self.mock_mail_gateway(), self.mockSMSGateway():
            self._run_campaign(campaign)
            running = campaign.get_delete_confirmation()
            self.assertEqual(
                running,
                {
                    "can_delete": False,
                    "title": "Stop it first",
                    "body": "Campaign Test Campaign is running: stop it first, then delete it.",
                },
            )
            campaign.action_stop_campaign()
            stopped = campaign.get_delete_confirmation()
        self.assertTrue(stopped["can_delete"])
        self.assertEqual(stopped["title"], "Delete campaign Test Campaign?")
        participants = len(self.contacts)
        traces = len(campaign.participant_ids.trace_ids)
        self.assertGreater(traces, participants)
        self.assertIn(
            f"Deleted with it: {participants} participants and the history of their "
            f"{traces} steps (traces).",
            stopped["body"],
        )
        self.assertIn("The 2 email and SMS templates of the workflow", stopped["body"])
        both = (campaign | empty).get_delete_confirmation()
        self.assertEqual(both["title"], "Delete these 2 campaigns?")
        self.assertIn(f"Deleted with them: {participants} participants", both["body"])

    @users("user_marketing_automation")
    def test_update_summary_counts(self):
        """The confirmation of Update counts what it then does: completed
        participants that get a new step run again."""
        campaign = self._create_campaign().with_env(self.env)
        root = self._create_activity(campaign, "email")
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            self._run_campaign(campaign)
            self.assertEqual(set(campaign.participant_ids.mapped("state")), {"completed"})
            self.assertEqual(
                campaign.get_update_summary(), {"participants": 0, "steps": 0, "completed": 0}
            )
            self._create_activity(campaign, "email", parent=root, name="Follow-up")
            self._create_activity(campaign, "email", name="Second root")
            self.assertTrue(campaign.require_sync)
            participants = len(self.contacts)
            summary = campaign.get_update_summary()
            self.assertEqual(
                summary,
                {
                    "participants": participants,
                    "steps": 2 * participants,
                    "completed": participants,
                },
            )
            action = campaign.action_update_participants()
        self.assertEqual(
            action["params"]["message"],
            f"{participants} participants got {2 * participants} new steps. {participants} of "
            "them had completed the workflow: they run again.",
        )
        self.assertEqual(len(campaign.participant_ids.trace_ids), 3 * participants)
        self.assertEqual(set(campaign.participant_ids.mapped("state")), {"running"})
        self.assertEqual(
            campaign.get_update_summary(), {"participants": 0, "steps": 0, "completed": 0}
        )

    @users("user_marketing_automation")
    def test_target_change_refused_at_once_with_activities(self):
        """A campaign whose saved activities belong to its target says at once
        that the target cannot change, and keeps it; nothing is logged as an
        error."""
        campaign = self._create_campaign(domain=[("user_id", "!=", False)]).with_env(self.env)
        self._create_activity(campaign, "email", domain="[('user_id', '!=', False)]")
        with (
            self.assertNoLogs(level="ERROR"),
            self.assertLogs("odoo.tests.form.onchange", "WARNING") as warnings,
        ):
            form = Form(campaign)
            form.model_id = self.env["ir.model"]._get("mailing.contact")
        self.assertEqual(form.model_id, self.partner_model)
        self.assertEqual(form.domain, campaign.domain)
        (warning,) = warnings.output
        self.assertIn("The target cannot change", warning)
        self.assertIn("were made for Contact", warning)
        self.assertIn("To target Mailing Contact, create a new campaign", warning)

    @users("user_marketing_automation")
    def test_target_change_empties_stale_filters(self):
        """A new target empties the filter, goal and unicity written for the
        former one, and says so; a filter that fits is kept silently."""
        with (
            self.assertNoLogs(level="ERROR"),
            self.assertLogs("odoo.tests.form.onchange", "WARNING") as warnings,
        ):
            form = Form(self.env["marketing.campaign"])
            form.name = "New target"
            form.domain = "[('user_id', '!=', False)]"
            form.goal_domain = "[('user_id', '!=', False)]"
            form.unique_field_id = self.env["ir.model.fields"]._get("res.partner", "email")
            form.model_id = self.env["ir.model"]._get("mailing.contact")
        self.assertEqual(form.domain, "[]")
        self.assertFalse(form.goal_domain)
        self.assertFalse(form.unique_field_id)
        (warning,) = warnings.output
        self.assertIn("The target changed", warning)
        self.assertIn(
            "Emptied, as they named fields that Mailing Contact does not have: Filter, Goal, "
            "Unique per.",
            warning,
        )
        with self.assertNoLogs("odoo.tests.form.onchange", "WARNING"):
            form.domain = "[('email', '!=', False)]"
            form.model_id = self.partner_model
        self.assertEqual(form.domain, "[('email', '!=', False)]")
        form.save()

    @users("user_marketing_automation")
    def test_favorite_filter_asks_for_its_name(self):
        campaign = self._create_campaign().with_env(self.env)
        Favorite = self.env["marketing.favorite.filter"]
        action = campaign.action_save_as_favorite_filter()
        self.assertEqual(action["res_model"], "marketing.favorite.filter")
        self.assertEqual(action["target"], "new")
        self.assertFalse(Favorite.search([]), "nothing is saved before the user names it")
        form = Form(Favorite.with_context(**action["context"]))
        self.assertEqual(form.name, "Test Campaign")
        form.name = "My contacts"
        favorite = form.save()
        self.assertEqual(favorite.name, "My contacts")
        self.assertEqual(favorite.domain, campaign.domain)
        self.assertEqual(favorite.model_id, campaign.model_id)
        campaign.domain = "[]"
        with self.assertRaises(UserError):
            campaign.action_save_as_favorite_filter()

    @users("user_marketing_automation")
    def test_negative_delay_refused_naming_the_activity(self):
        campaign = self._create_campaign().with_env(self.env)
        activity = self._create_activity(campaign, "email", name="Welcome")
        with self.assertRaisesRegex(
            ValidationError, "The delay of activity Late must be between 0 and 87600 Hours"
        ):
            campaign.write(
                {
                    "marketing_activity_ids": [
                        Command.create(
                            {
                                "name": "Late",
                                "activity_type": "email",
                                "mass_mailing_id": self._create_marketing_mailing(
                                    "Late", "mail"
                                ).id,
                                "interval_number": -1,
                            }
                        )
                    ]
                }
            )
        with self.assertRaisesRegex(
            ValidationError, "The expiry of activity Welcome must be between 0 and 87600 Hours"
        ):
            activity.write({"validity_duration": True, "validity_duration_number": -2})

    def test_run_click_cancels_bounce(self):
        """Run on "clicked" simulates the click: the message arrived, so its
        "bounced" child is canceled and no longer offered."""
        campaign = self._create_campaign()
        root = self._create_activity(campaign, "email")
        on_click = self._create_activity(campaign, "action", parent=root, trigger_type="mail_click")
        on_bounce = self._create_activity(
            campaign, "action", parent=root, trigger_type="mail_bounce"
        )
        with freeze_time(self.reference_now), self.mock_mail_gateway():
            participant = self._launch_test(campaign, self.contacts[0])
            participant.trace_ids.filtered(lambda t: t.activity_id == root).action_execute()
            bounce_trace = participant.trace_ids.filtered(lambda t: t.activity_id == on_bounce)
            self.assertTraceStates(bounce_trace, "scheduled")
            participant.trace_ids.filtered(lambda t: t.activity_id == on_click).action_execute()
            self.assertTraceStates(bounce_trace, "canceled", "a link of the parent message")
            with self.assertRaisesRegex(UserError, "can no longer run"):
                bounce_trace.action_execute()
        self.assertEqual(participant.state, "completed")
