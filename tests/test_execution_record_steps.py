from datetime import timedelta

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged, users
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import MarketingAutomationCommon

# what the email editor's "Start From Scratch" saves when nothing is written
SCRATCH_BODY = (
    '<div class="o_layout o_empty_theme oe_unremovable" data-name="Mailing">'
    '<table class="container o_mail_wrapper" style="width: 100%;"><tbody><tr>'
    '<td class="o_mail_no_options o_mail_wrapper_td" style="padding: 0px;">'
    '<p style="margin: 0px;"><br></p>&nbsp;</td></tr></tbody></table></div>'
)


@tagged("marketing_automation", "post_install", "-at_install")
class TestNoCodeSteps(MarketingAutomationCommon):
    """The steps on the record (tag, mailing list, plan an activity, note,
    update a field) run through the ORM with the rights of the campaign's
    user: what he may not change ends in error with the reason."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.hot = cls.env["res.partner.category"].create({"name": "Hot lead"})
        cls.cold = cls.env["res.partner.category"].create({"name": "Cold"})
        cls.contacts.category_id = cls.cold
        cls.locked_contact = cls.contacts[2]
        # the marketing user may not change the third contact
        cls.env["ir.rule"].create(
            {
                "name": "Marketing users leave the locked contact alone",
                "model_id": cls.partner_model.id,
                "groups": [
                    Command.link(
                        cls.env.ref(
                            "marketing_automation_community.group_marketing_automation_user"
                        ).id
                    )
                ],
                "domain_force": repr([("id", "!=", cls.locked_contact.id)]),
                "perm_read": False,
                "perm_create": False,
                "perm_unlink": False,
            }
        )
        cls.assignee = mail_new_test_user(
            cls.env, login="assignee", name="Arthur Assignee", groups="base.group_user"
        )

    def _step(self, campaign, activity_type, **values):
        return self.env["marketing.activity"].create(
            {
                "name": f"{activity_type} step",
                "campaign_id": campaign.id,
                "activity_type": activity_type,
                "trigger_type": "begin",
                "interval_number": 0,
                **values,
            }
        )

    def _run_step(self, activity_type, **values):
        """A campaign of the marketing user on the contacts with one step,
        run: return the step."""
        campaign = self._create_campaign()
        step = self._step(campaign, activity_type, **values)
        with mute_logger("odoo.addons.marketing_automation_community.models.marketing_trace"):
            self._run_campaign(campaign)
        return step

    def _assert_ran_for_writable_only(self, step):
        writable = self.contacts - self.locked_contact
        self.assertTraceStates(self._traces(step, writable), "processed")
        self.assertTraceStates(
            self._traces(step, self.locked_contact),
            "error",
            "Mireille Automation may not change this Contact record.",
        )

    @users("user_marketing_automation")
    def test_tag_add_and_remove(self):
        step = self._run_step("tag", tag_ids=[Command.set(self.hot.ids)])
        self._assert_ran_for_writable_only(step)
        contacts = self.contacts.with_env(self.env)
        self.assertEqual(contacts[0].category_id, self.cold + self.hot)
        self.assertEqual(contacts[1].category_id, self.cold + self.hot)
        self.assertEqual(contacts[2].category_id, self.cold, "not changed")
        step = self._run_step("tag", tag_operation="remove", tag_ids=[Command.set(self.cold.ids)])
        self.assertEqual(contacts[0].category_id, self.hot)
        self.assertEqual(contacts[2].category_id, self.cold, "not changed")

    @users("user_marketing_automation")
    def test_tag_needs_contact_tags(self):
        campaign = self._create_campaign()
        with self.assertRaises(ValidationError):
            self._step(campaign, "tag")

    @users("user_marketing_automation")
    def test_mailing_list_add_remove_and_kept(self):
        MailingList = self.env["mailing.list"]
        confirmed, old = MailingList.create([{"name": "Confirmed"}, {"name": "Old"}])
        members = self.env["mailing.contact"].create(
            [
                {"name": f"Member {index}", "email": f"m{index}@example.com", "list_ids": old.ids}
                for index in range(2)
            ]
        )
        # an address that opted out of the list stays opted out
        self.env["mailing.subscription"].create(
            {"contact_id": members[1].id, "list_id": confirmed.id, "opt_out": True}
        )
        campaign = self._create_campaign(
            domain=[("id", "in", members.ids)],
            model_id=self.env["ir.model"]._get_id("mailing.contact"),
        )
        # refused, and rolled back (assertRaisesRegex would keep the row)
        with self.assertRaises(ValidationError) as caught:
            self._step(campaign, "mailing_list")
        self.assertIn("mailing list", str(caught.exception))
        add = self._step(campaign, "mailing_list", mailing_list_id=confirmed.id)
        remove = self._step(
            campaign, "mailing_list", mailing_list_operation="remove", mailing_list_id=old.id
        )
        self._run_campaign(campaign)
        self.assertTraceStates(self._traces(add) + self._traces(remove), "processed")
        self.assertEqual(members.mapped("list_ids"), confirmed)
        self.assertEqual(confirmed.subscription_ids.filtered("opt_out").contact_id, members[1])
        # a list a campaign's step uses is kept
        with self.assertRaisesRegex(UserError, "Confirmed"):
            confirmed.unlink()
        with self.assertRaisesRegex(UserError, "Old"):
            old.unlink()
        self.assertTrue((confirmed + old).exists())
        # a contact cannot be put in a list
        with self.assertRaisesRegex(ValidationError, "only mailing contacts"):
            self._step(self._create_campaign(), "mailing_list", mailing_list_id=confirmed.id)

    @users("user_marketing_automation")
    def test_plan_activity(self):
        with freeze_time(self.reference_now):
            call = self.env.ref("mail.mail_activity_data_call")
            step = self._run_step(
                "plan_activity",
                plan_activity_type_id=call.id,
                plan_summary="Call them",
                plan_deadline_days=2,
                plan_user_id=self.assignee.id,
            )
        self._assert_ran_for_writable_only(step)
        activities = self.contacts.with_env(self.env).activity_ids
        self.assertEqual(set(activities.mapped("res_id")), set(self.contacts[:2].ids))
        self.assertEqual(set(activities.mapped("summary")), {"Call them"})
        self.assertEqual(activities.user_id, self.assignee)
        self.assertEqual(activities.activity_type_id, call)
        self.assertEqual(
            set(activities.mapped("date_deadline")),
            {(self.reference_now + timedelta(days=2)).date()},
        )
        campaign = self._create_campaign()
        with self.assertRaisesRegex(ValidationError, "user to assign"):
            self._step(campaign, "plan_activity", plan_activity_type_id=call.id)
        with self.assertRaisesRegex(ValidationError, "deadline"):
            self._step(
                campaign,
                "plan_activity",
                plan_activity_type_id=call.id,
                plan_user_id=self.assignee.id,
                plan_deadline_days=-1,
            )

    @users("user_marketing_automation")
    def test_note_is_plain_text(self):
        text = "Clicked <b>twice</b> {{ object.name }} <t t-out='env.user.password'/>"
        step = self._run_step("note", note_body=text)
        self._assert_ran_for_writable_only(step)
        for contact in self.contacts[:2].with_env(self.env):
            note = contact.message_ids.filtered(lambda m: "Clicked" in m.body)
            self.assertEqual(len(note), 1)
            self.assertEqual(note.subtype_id, self.env.ref("mail.mt_note"))
            self.assertEqual(note.author_id, self.env.user.partner_id)
            self.assertIn("Clicked &lt;b&gt;twice&lt;/b&gt; {{ object.name }}", note.body)
            self.assertNotIn("<b>", note.body)
        with self.assertRaises(ValidationError):
            self._step(self._create_campaign(), "note", note_body="  ")
        with self.assertRaises(ValidationError):
            self._step(self._create_campaign(), "note", note_body="x" * 10_001)

    @users("user_marketing_automation")
    def test_set_field(self):
        Fields = self.env["ir.model.fields"]
        step = self._run_step(
            "set_field",
            set_field_id=Fields._get("res.partner", "function").id,
            set_field_value="VIP",
        )
        self._assert_ran_for_writable_only(step)
        contacts = self.contacts.with_env(self.env)
        self.assertEqual(contacts.mapped("function"), ["VIP", "VIP", False])
        # a boolean, a choice by its label, a link to a record
        self._run_step(
            "set_field",
            set_field_id=Fields._get("res.partner", "is_company").id,
            set_field_boolean=True,
        )
        self.assertEqual(contacts.mapped("is_company"), [True, True, False])
        step = self._run_step(
            "set_field",
            set_field_id=Fields._get("res.partner", "type").id,
            set_field_value="Other Address",
        )
        self.assertEqual(contacts[:2].mapped("type"), ["other", "other"])
        self._run_step(
            "set_field",
            set_field_id=Fields._get("res.partner", "country_id").id,
            set_field_res_id=self.env.ref("base.fr").id,
        )
        self.assertEqual(contacts[:2].country_id, self.env.ref("base.fr"))

    @users("user_marketing_automation")
    def test_set_field_refuses_technical_fields_and_bad_values(self):
        Fields = self.env["ir.model.fields"]
        campaign = self._create_campaign()
        for name in ("company_id", "create_uid", "active", "id", "email_normalized", "user_ids"):
            with self.subTest(field=name), self.assertRaisesRegex(ValidationError, "plain field"):
                self._step(campaign, "set_field", set_field_id=Fields._get("res.partner", name).id)
        for name, value in (("color", "many"), ("partner_latitude", "north"), ("type", "Boss")):
            with self.subTest(field=name), self.assertRaisesRegex(ValidationError, "cannot set"):
                self._step(
                    campaign,
                    "set_field",
                    set_field_id=Fields._get("res.partner", name).id,
                    set_field_value=value,
                )
        # a link to a record the user cannot read
        with self.assertRaisesRegex(ValidationError, "cannot set"):
            self._step(
                campaign,
                "set_field",
                set_field_id=Fields._get("res.partner", "country_id").id,
                set_field_res_id=999_999_999,
            )

    @users("user_marketing_automation")
    def test_empty_email_refused_at_save_start_and_run(self):
        campaign = self._create_campaign()
        mailing = self._create_marketing_mailing("Scratch", "mail")
        mailing.body_html = SCRATCH_BODY
        with self.assertRaisesRegex(ValidationError, "Scratch of activity Scratch email is empty"):
            self._step(campaign, "email", name="Scratch email", mass_mailing_id=mailing.id)
        mailing.body_html = "<p>Hello</p>"
        email = self._step(campaign, "email", name="Scratch email", mass_mailing_id=mailing.id)
        # emptied behind the activity: Start refuses, a run rejects with the reason
        mailing.body_html = SCRATCH_BODY
        with self.assertRaisesRegex(UserError, "Scratch email would not run.*Scratch is empty"):
            campaign.action_start_campaign()
        mailing.body_html = "<p>Hello</p>"
        self._start(campaign)
        mailing.body_html = SCRATCH_BODY
        with self.mock_mail_gateway():
            campaign.execute_activities()
        self.assertTraceStates(email.trace_ids, "rejected", "the template Scratch is empty")
        self.assertFalse(email.trace_ids.mailing_trace_ids)

    @users("user_marketing_automation")
    def test_start_refuses_what_a_run_rejects(self):
        """Start checks the content as the execution does: an archived email,
        which a run would reject, is refused at Start too."""
        campaign = self._create_campaign()
        mailing = self._create_marketing_mailing("Old offer", "mail")
        self._step(campaign, "email", name="Offer", mass_mailing_id=mailing.id)
        mailing.action_archive()
        with self.assertRaisesRegex(
            UserError, "Offer would not run. Not sent: the template Old offer is archived."
        ):
            campaign.action_start_campaign()
        self.assertEqual(campaign.state, "draft")

    @users("user_marketing_automation")
    def test_retry(self):
        step = self._run_step("tag", tag_ids=[Command.set(self.hot.ids)])
        failed = self._traces(step, self.locked_contact)
        self.assertTraceStates(failed, "error")
        self.assertEqual(failed.participant_id.state, "completed")
        done = self._traces(step, self.contacts[0])
        with self.assertRaisesRegex(UserError, "Only failed traces"):
            done.action_retry()
        # a user of another company cannot retry it
        outside = self.env["res.company"].sudo().create({"name": "Outside"})
        outsider = mail_new_test_user(
            self.env(su=True),
            login="outsider",
            company_id=outside.id,
            company_ids=[Command.set(outside.ids)],
            groups="base.group_user,marketing_automation_community.group_marketing_automation_user",
        )
        with self.assertRaises(AccessError):
            failed.with_user(outsider).action_retry()
        self.assertTraceStates(failed, "error")
        # the record becomes writable: the retried trace runs
        self.env["ir.rule"].sudo().search(
            [("name", "=", "Marketing users leave the locked contact alone")]
        ).active = False
        with freeze_time(fields.Datetime.now()):
            failed.action_retry()
            self.assertTraceStates(failed, "scheduled")
            self.assertFalse(failed.state_msg)
            self.assertEqual(failed.schedule_date, fields.Datetime.now())
            self.assertEqual(failed.participant_id.state, "running")
            step.campaign_id.execute_activities()
        self.assertTraceStates(failed, "processed")
        self.assertIn(self.hot, self.locked_contact.with_env(self.env).category_id)
        self.assertEqual(failed.participant_id.state, "completed")
