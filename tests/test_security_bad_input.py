from datetime import timedelta

from freezegun import freeze_time

from odoo.api import call_kw
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.models import check_method_name
from odoo.tests import Form, tagged, users
from odoo.tools import mute_logger

from .common import MarketingAutomationCommon

CAMPAIGN_LOGGER = "odoo.addons.marketing_automation_community.models.marketing_campaign"
TRACE_LOGGER = "odoo.addons.marketing_automation_community.models.marketing_trace"
# Arabic, Chinese and emoji
NON_LATIN = "مرحبا 你好 🚀"
LONG_NAME = "Ω" * 10_000


@tagged("marketing_automation", "post_install", "-at_install")
class TestBadInput(MarketingAutomationCommon):
    """Bad input sent by a marketing user through RPC and the forms, and bad
    data met by the scheduler: each ends in a readable error, or in a
    rejected, canceled or failed trace that says why, and the scheduler goes
    on with everything else (Odoo's exceptions carry translated messages)."""

    def _rpc(self, model, method, *args, **kwargs):
        """Call ``method`` as the JSON-RPC layer does for the marketing user."""
        check_method_name(method)
        records = self.env[model].with_user(self.user_marketing_automation)
        result = call_kw(records, method, list(args), kwargs)
        # the request's transaction is flushed before it commits
        self.env.flush_all()
        return result

    def _campaign_values(self, **values):
        return {
            "name": "Bad input",
            "model_id": self.partner_model.id,
            "domain": repr([("id", "in", self.contacts.ids)]),
            **values,
        }

    # ------------------------------------------------------------
    # FILTERS
    # ------------------------------------------------------------

    def test_rpc_filters_refused_with_reason(self):
        """A filter that does not parse, names a field that does not exist or
        is huge is refused on create and write, with the filter (shortened)
        and the target in the message; nothing is saved."""
        campaign_id = self._rpc("marketing.campaign", "create", [self._campaign_values()])[0]
        activity_id = self._rpc(
            "marketing.activity",
            "create",
            [
                {
                    "name": "Tag",
                    "campaign_id": campaign_id,
                    "activity_type": "action",
                    "server_action_id": self.server_action.id,
                }
            ],
        )[0]
        huge = f"[('name', '=', '{'x' * 10_000}'), ('no_such_field', '=', 1)]"
        cases = [
            ("[('email', '=',", "cannot be used for Contact"),
            ("not a domain", "cannot be used for Contact"),
            ("[('no_such_field', '=', 1)]", "is not valid for Contact"),
            ("[('country_id.no_such_field', '=', 1)]", "is not valid for Contact"),
            ("[('name', 'no_such_operator', 1)]", "is not valid for Contact"),
            (huge, "is not valid for Contact"),
        ]
        for domain, reason in cases:
            for model, record_id in (
                ("marketing.campaign", campaign_id),
                ("marketing.activity", activity_id),
            ):
                with self.subTest(model=model, domain=domain[:40]):
                    with self.assertRaises(ValidationError) as caught:
                        self._rpc(model, "write", [record_id], {"domain": domain})
                    message = str(caught.exception)
                    self.assertIn(reason, message)
                    self.assertLess(len(message), 1000, "the filter is shortened")
            with self.subTest(create=domain[:40]), self.assertRaises(ValidationError):
                self._rpc("marketing.campaign", "create", [self._campaign_values(domain=domain)])
        self.assertEqual(
            self._rpc("marketing.campaign", "search_count", [("name", "=", "Bad input")]), 1
        )
        self.assertEqual(
            self._rpc("marketing.campaign", "read", [campaign_id], ["domain"])[0]["domain"],
            repr([("id", "in", self.contacts.ids)]),
        )
        # in the language of the user's session
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(
            ["marketing_automation_community"], ["fr_FR"], overwrite=True
        )
        with self.assertRaises(ValidationError) as caught:
            self._rpc(
                "marketing.campaign",
                "write",
                [campaign_id],
                {"domain": "[('no_such_field', '=', 1)]"},
                context={"lang": "fr_FR"},
            )
        self.assertIn("n'est pas valide pour", str(caught.exception))

    @users("user_marketing_automation")
    def test_form_filter_refused_with_reason(self):
        """The campaign form saves nothing with a wrong filter and says why;
        corrected, it saves."""
        form = Form(self.env["marketing.campaign"])
        form.name = "From the form"
        form.domain = "[('no_such_field', '=', 1)]"
        with self.assertRaises(ValidationError) as caught:
            form.save()
        self.assertIn("is not valid for Contact", str(caught.exception))
        self.assertFalse(self.env["marketing.campaign"].search([("name", "=", "From the form")]))
        form.domain = "[('email', '!=', False)]"
        campaign = form.save()
        self.assertEqual(campaign.domain, "[('email', '!=', False)]")

    # ------------------------------------------------------------
    # TARGETS AND CONTENT
    # ------------------------------------------------------------

    def test_rpc_target_the_user_cannot_read(self):
        """A marketing user cannot target a model he cannot read (here the
        phone blacklist), nor choose a server action or template of another
        model."""
        blacklist_model = self.env["ir.model"]._get("phone.blacklist")
        with self.assertRaises(ValidationError) as caught:
            self._rpc(
                "marketing.campaign",
                "create",
                [self._campaign_values(model_id=blacklist_model.id, domain="[]")],
            )
        self.assertIn("cannot target Phone Blacklist", str(caught.exception))
        campaign_id = self._rpc("marketing.campaign", "create", [self._campaign_values()])[0]
        with self.assertRaises(ValidationError) as caught:
            self._rpc(
                "marketing.campaign", "write", [campaign_id], {"model_id": blacklist_model.id}
            )
        self.assertIn("cannot target Phone Blacklist", str(caught.exception))
        contact_action = self.env["ir.actions.server"].create(
            {
                "name": "On mailing contacts",
                "model_id": self.env["ir.model"]._get_id("mailing.contact"),
                "state": "code",
                "code": "pass",
            }
        )
        with self.assertRaises(ValidationError) as caught:
            self._rpc(
                "marketing.activity",
                "create",
                [
                    {
                        "name": "Wrong model",
                        "campaign_id": campaign_id,
                        "activity_type": "action",
                        "server_action_id": contact_action.id,
                    }
                ],
            )
        self.assertIn("must run on the campaign's model Contact", str(caught.exception))
        with self.assertRaises(ValidationError) as caught:
            self._rpc(
                "marketing.activity",
                "create",
                [
                    {
                        "name": "SMS as an email",
                        "campaign_id": campaign_id,
                        "activity_type": "email",
                        "mass_mailing_id": self.mailing_sms.id,
                    }
                ],
            )
        self.assertIn("is not an Email template", str(caught.exception))
        with self.assertRaises(ValidationError) as caught:
            self._rpc(
                "marketing.activity",
                "create",
                [{"name": "No action", "campaign_id": campaign_id, "activity_type": "action"}],
            )
        self.assertIn("needs a server action to run", str(caught.exception))

    def test_rpc_content_in_use_and_missing(self):
        """A template or server action in use cannot be deleted; a template
        without body, or emptied once the campaign runs, sends nothing."""
        campaign_id = self._rpc("marketing.campaign", "create", [self._campaign_values()])[0]
        mailing_id = self._rpc(
            "mailing.mailing",
            "create",
            [
                {
                    "subject": "Empty",
                    "mailing_type": "mail",
                    "mailing_model_id": self.partner_model.id,
                    "use_in_marketing_automation": True,
                    "body_html": "<p><br></p>",
                }
            ],
        )[0]
        email_values = {
            "name": "Empty email",
            "campaign_id": campaign_id,
            "activity_type": "email",
            "mass_mailing_id": mailing_id,
            "interval_number": 0,
        }
        # refused when the activity is saved, then emptied once chosen
        with self.assertRaises(ValidationError) as caught:
            self._rpc("marketing.activity", "create", [email_values])
        self.assertIn("The email Empty of activity Empty email is empty", str(caught.exception))
        self._rpc("mailing.mailing", "write", [mailing_id], {"body_html": "<p>Hello</p>"})
        email_id = self._rpc("marketing.activity", "create", [email_values])[0]
        self._rpc("mailing.mailing", "write", [mailing_id], {"body_html": "<p><br></p>"})
        with self.assertRaises(UserError) as caught:
            self._rpc("marketing.campaign", "action_start_campaign", [campaign_id])
        self.assertIn(
            "activity Empty email would not run. Not sent: the template Empty is empty.",
            str(caught.exception),
        )
        with self.assertRaises(UserError) as caught:
            self._rpc("mailing.mailing", "unlink", [mailing_id])
        self.assertIn("activity Empty email of campaign Bad input", str(caught.exception))

        # written, started, then emptied behind the campaign (and an SMS too)
        self._rpc("mailing.mailing", "write", [mailing_id], {"body_html": "<p>Hello</p>"})
        sms_id = self._rpc(
            "marketing.activity",
            "create",
            [
                {
                    "name": "SMS",
                    "campaign_id": campaign_id,
                    "activity_type": "sms",
                    "mass_mailing_id": self.mailing_sms.id,
                    "interval_number": 0,
                }
            ],
        )[0]
        self._rpc("marketing.campaign", "action_start_campaign", [campaign_id])
        self._rpc("marketing.campaign", "sync_participants", [campaign_id])
        self._rpc("mailing.mailing", "write", [mailing_id], {"body_html": "<p><br></p>"})
        self._rpc("mailing.mailing", "write", [self.mailing_sms.id], {"body_plaintext": " \n"})
        with self.mock_mail_gateway(), self.mockSMSGateway():
            self._rpc("marketing.campaign", "execute_activities", [campaign_id])
        email, sms = self.env["marketing.activity"].browse([email_id, sms_id])
        self.assertTraceStates(
            email.trace_ids, "rejected", "Not sent: the template Empty is empty."
        )
        self.assertTraceStates(
            sms.trace_ids, "rejected", "Not sent: the template Welcome SMS is empty."
        )
        self.assertFalse((email + sms).trace_ids.mailing_trace_ids)
        self.assertFalse(self._new_mails)
        self.assertFalse(self._new_sms)

    # ------------------------------------------------------------
    # TEXT
    # ------------------------------------------------------------

    def test_rpc_long_and_non_latin_text(self):
        """Names of 10,000 characters and Arabic, Chinese and emoji in names,
        subjects, bodies, SMS and filters go through enrolment, sending and
        the statistics unchanged."""
        contacts = self.env["res.partner"].create(
            [
                {
                    "name": f"{NON_LATIN} {LONG_NAME}",
                    "email": "long.name@example.com",
                    "phone": "+32456000100",
                },
                {"name": f"李小龙 {NON_LATIN}", "email": "li@example.com", "phone": "+32456000101"},
            ]
        )
        campaign_id = self._rpc(
            "marketing.campaign",
            "create",
            [
                self._campaign_values(
                    name=f"{NON_LATIN} {LONG_NAME}",
                    domain=repr([("name", "ilike", NON_LATIN), ("id", "in", contacts.ids)]),
                )
            ],
        )[0]
        mailing_ids = self._rpc(
            "mailing.mailing",
            "create",
            [
                {
                    "subject": f"{NON_LATIN} {LONG_NAME}",
                    "mailing_type": "mail",
                    "mailing_model_id": self.partner_model.id,
                    "use_in_marketing_automation": True,
                    "body_html": f"<p>{NON_LATIN} <t t-out='object.name'/></p>",
                },
                {
                    "subject": f"SMS {NON_LATIN}",
                    "mailing_type": "sms",
                    "mailing_model_id": self.partner_model.id,
                    "use_in_marketing_automation": True,
                    "body_plaintext": f"{NON_LATIN} 👋",
                },
            ],
        )
        activity_ids = self._rpc(
            "marketing.activity",
            "create",
            [
                {
                    "name": f"{activity_type} {NON_LATIN} {LONG_NAME}",
                    "campaign_id": campaign_id,
                    "activity_type": activity_type,
                    "mass_mailing_id": mailing_id,
                    "interval_number": 0,
                }
                for activity_type, mailing_id in zip(("email", "sms"), mailing_ids, strict=True)
            ],
        )
        with self.mock_mail_gateway(), self.mockSMSGateway():
            self._rpc("marketing.campaign", "action_start_campaign", [campaign_id])
            self._rpc("marketing.campaign", "sync_participants", [campaign_id])
            self._rpc("marketing.campaign", "execute_activities", [campaign_id])
            sms_bodies = {sms.partner_id: sms.body for sms in self._new_sms}
            self._send_queued_mails()
            self._send_queued_sms()

        campaign = self.env["marketing.campaign"].browse(campaign_id)
        email, sms = self.env["marketing.activity"].browse(activity_ids)
        self.assertEqual(sorted(campaign.participant_ids.mapped("res_id")), sorted(contacts.ids))
        self.assertTraceStates(email.trace_ids + sms.trace_ids, "processed")
        for contact in contacts:
            with self.subTest(contact=contact.name[:20]):
                sent = self._find_sent_mail_wemail(contact.email_formatted)
                self.assertEqual(sent["subject"], f"{NON_LATIN} {LONG_NAME}")
                self.assertIn(f"{NON_LATIN} {contact.name}", sent["body"])
                self.assertIn(f"{NON_LATIN} 👋", sms_bodies[contact])
        self.assertEqual(campaign.utm_campaign_id.name, f"{NON_LATIN} {LONG_NAME}")
        self.assertEqual(
            (email.total_sent, sms.total_sent, campaign.completed_participant_count), (2, 2, 2)
        )
        self.assertEqual(
            self._rpc("marketing.campaign", "name_search", "你好 🚀")[0][0], campaign_id
        )
        favorite_id = self._rpc(
            "marketing.favorite.filter",
            "create",
            [{"name": NON_LATIN, "model_id": self.partner_model.id, "domain": campaign.domain}],
        )[0]
        self.assertIn(
            f"Name contains “{NON_LATIN}”",
            self._rpc("marketing.favorite.filter", "read", [favorite_id], ["domain_description"])[
                0
            ]["domain_description"],
        )

    # ------------------------------------------------------------
    # THE SCHEDULER
    # ------------------------------------------------------------

    @mute_logger(CAMPAIGN_LOGGER, TRACE_LOGGER)
    def test_cron_carries_on_past_bad_campaigns(self):
        """In one scheduler run: filters broken in the database (a module
        removed a field), a responsible who cannot read the target, records
        without email or phone, a record deleted after enrolment. Each
        campaign shows why, each trace says why, and a healthy campaign runs."""
        no_email, no_phone, deleted = self.env["res.partner"].create(
            [
                {"name": "No email", "phone": "+32456000200"},
                {"name": "No phone", "email": "no.phone@example.com"},
                {"name": "Deleted", "email": "deleted@example.com", "phone": "+32456000202"},
            ]
        )
        campaigns = {}
        for fault in ("unparsable", "missing field", "activity filter", "healthy"):
            campaigns[fault] = self._create_campaign(name=fault.capitalize())
            self._create_activity(campaigns[fault], "action", name=f"{fault} action")
        recipients = self._create_campaign(
            name="Recipients", domain=[("id", "in", (no_email + no_phone + deleted).ids)]
        )
        email = self._create_activity(recipients, "email")
        sms = self._create_activity(recipients, "sms")
        blacklist_model = self.env["ir.model"]._get("phone.blacklist")
        self.env["phone.blacklist"].create({"number": "+32456999999"})
        unreadable = self._create_campaign(
            name="Unreadable", model_id=blacklist_model.id, domain=[]
        )
        self._create_activity(
            unreadable,
            "action",
            server_action_id=self.env["ir.actions.server"]
            .create(
                {
                    "name": "On the blacklist",
                    "model_id": blacklist_model.id,
                    "state": "code",
                    "code": "pass",
                }
            )
            .id,
        )
        everything = self.env["marketing.campaign"].concat(*campaigns.values(), recipients)
        with freeze_time(self.reference_now) as frozen:
            (everything + unreadable).action_start_campaign()
            recipients.with_user(self.user_marketing_automation).sync_participants()
            deleted.unlink()
            # the next run of the job enrols again (and unlinks) the recipients
            frozen.tick(timedelta(minutes=15))
            # data broken behind the ORM, as when a module that added a field is removed
            self.env.flush_all()
            for table, record, domain in (
                ("marketing_campaign", campaigns["unparsable"], "[('name', '=',"),
                ("marketing_campaign", campaigns["missing field"], "[('gone_field', '=', 1)]"),
                (
                    "marketing_activity",
                    campaigns["activity filter"].marketing_activity_ids,
                    "[('gone_field', '=', 1)]",
                ),
            ):
                self.env.cr.execute(
                    f"UPDATE {table} SET domain = %s WHERE id = %s",  # noqa: S608 - test data
                    [domain, record.id],
                )
            self.env.invalidate_all()
            with self.mock_mail_gateway(), self.mockSMSGateway():
                self._run_cron()

        self.assertIn("cannot be used for Contact", campaigns["unparsable"].scheduler_error)
        self.assertIn("gone_field", campaigns["missing field"].scheduler_error)
        self.assertIn("is not valid for Contact", campaigns["missing field"].scheduler_error)
        self.assertFalse(campaigns["unparsable"].participant_ids)
        self.assertIn("You are not allowed to access", unreadable.scheduler_error)
        self.assertFalse(unreadable.participant_ids)
        # enrolled, then failed with the reason
        self.assertFalse(campaigns["activity filter"].scheduler_error)
        self.assertTraceStates(
            campaigns["activity filter"].participant_ids.trace_ids, "error", "gone_field"
        )
        # each recipient problem on its own trace
        self.assertFalse(recipients.scheduler_error)
        self.assertTraceStates(self._traces(email, no_email), "rejected", "Missing email address")
        self.assertTraceStates(self._traces(sms, no_phone), "rejected", "Missing Number")
        self.assertTraceStates(
            self._traces(email, no_phone) + self._traces(sms, no_email), "processed"
        )
        gone = email.trace_ids.filtered(lambda t: t.res_id == deleted.id) | sms.trace_ids.filtered(
            lambda t: t.res_id == deleted.id
        )
        self.assertTraceStates(gone, "canceled", "the record was deleted")
        self.assertEqual(gone.participant_id.state, "unlinked")
        # and the healthy campaign ran
        self.assertFalse(campaigns["healthy"].scheduler_error)
        self.assertTraceStates(campaigns["healthy"].participant_ids.trace_ids, "processed")
        self.assertEqual(campaigns["healthy"].completed_participant_count, len(self.contacts))

        # fixed, the campaign runs at the next run and its error goes away
        campaigns["missing field"].domain = repr([("id", "in", self.contacts.ids)])
        with freeze_time(self.reference_now):
            self._run_cron()
        self.assertFalse(campaigns["missing field"].scheduler_error)
        self.assertEqual(len(campaigns["missing field"].participant_ids), len(self.contacts))

    def test_rpc_engine_fields_and_access(self):
        """Engine fields written through RPC are refused with a message, and a
        marketing user cannot read a campaign's target he has no access to."""
        campaign = self._create_campaign()
        self._create_activity(campaign, "action")
        self._start(campaign)
        trace = campaign.participant_ids.trace_ids[:1]
        with self.assertRaises(AccessError) as caught:
            self._rpc("marketing.trace", "write", [trace.id], {"res_id": self.contacts[0].id + 1})
        self.assertIn("Traces are created and run by the campaigns", str(caught.exception))
        with self.assertRaises(AccessError):
            self._rpc("phone.blacklist", "search_read", [], ["number"])
