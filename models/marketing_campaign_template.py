from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from .marketing_activity import ACTIVITY_TYPES_BY_MAILING_TYPE

# the order of the cards in the Campaigns view
TEMPLATE_KEYS = (
    "hot_contacts",
    "welcome",
    "double_opt_in",
    "commercial_prospection",
    "schedule_calls",
    "prioritize_hot_leads",
    "ab_test_welcome",
    "closing_reminder",
)
# what each template targets, and the app that brings a target missing from Email and
# SMS Marketing
TEMPLATE_MODELS = {
    "hot_contacts": "res.partner",
    "welcome": "mailing.contact",
    "double_opt_in": "mailing.contact",
    "commercial_prospection": "crm.lead",
    "schedule_calls": "crm.lead",
    "prioritize_hot_leads": "crm.lead",
    "ab_test_welcome": "mailing.contact",
    "closing_reminder": "crm.lead",
}
TEMPLATE_ICONS = {
    "hot_contacts": "fa-tag",
    "welcome": "fa-hand-peace-o",
    "double_opt_in": "fa-check-square",
    "commercial_prospection": "fa-search",
    "schedule_calls": "fa-phone",
    "prioritize_hot_leads": "fa-star",
    "ab_test_welcome": "fa-flask",
    "closing_reminder": "fa-calendar",
}
# the mail bodies, QWeb templates of data/marketing_campaign_template_data.xml
MAIL_BODY_TEMPLATE = "marketing_automation_community.campaign_template_mail_{key}"
# how the mails greet their recipient, rendered when each mail is sent
RECIPIENT_NAMES = {
    "res.partner": Markup("<t t-out=\"object.name or ''\"/>"),
    "mailing.contact": Markup("<t t-out=\"object.name or ''\"/>"),
    "crm.lead": Markup("<t t-out=\"object.contact_name or object.partner_name or ''\"/>"),
}


class MarketingCampaign(models.Model):
    """The campaign templates of the Campaigns view (also for RPC): each
    builds a draft campaign with its workflow and its mailings, ready to start.

    Their steps on the record are activities of their own (tag, mailing list,
    plan an activity, update a field), run with the rights of the campaign's
    responsible. Only Welcome Flow's bounce step is a server action: one line
    calling a method of the target model, which nobody has to edit. The lead
    templates need CRM, an optional companion: they are offered only when
    ``crm.lead`` exists, and nothing here imports CRM.
    """

    _inherit = "marketing.campaign"

    @api.model
    def get_campaign_templates_info(self):
        """The campaign templates, keyed by template key, in card order: their
        ``title``, ``description``, ``icon`` (a Font Awesome class),
        ``available`` and, when it is not, the ``unavailable_reason``."""
        texts = {
            "hot_contacts": (
                self.env._("Tag Hot Contacts"),
                self.env._("Send a welcome email to contacts and tag those who click in it."),
            ),
            "welcome": (
                self.env._("Welcome Flow"),
                self.env._(
                    "Send a welcome email to new subscribers, remove the addresses that bounced."
                ),
            ),
            "double_opt_in": (
                self.env._("Double Opt-in"),
                self.env._("Send an email to new recipients to confirm their consent."),
            ),
            "commercial_prospection": (
                self.env._("Commercial prospection"),
                self.env._("Send a free catalog and follow up according to reactions."),
            ),
            "schedule_calls": (
                self.env._("Schedule Calls"),
                self.env._(
                    "If a lead is created for an existing contact, schedule a call with "
                    "their salesperson."
                ),
            ),
            "prioritize_hot_leads": (
                self.env._("Prioritize Hot leads"),
                self.env._("Send an email to new leads and raise their priority if they open it."),
            ),
            "ab_test_welcome": (
                self.env._("A/B test a welcome email"),
                self.env._(
                    "Send one of two welcome emails to each new subscriber, half and half, "
                    "and see which one gets more clicks."
                ),
            ),
            "closing_reminder": (
                self.env._("Before the expected closing"),
                self.env._(
                    "Email each opportunity 3 days before its expected closing, on a weekday "
                    "between 9:00 and 17:00 of their time."
                ),
            ),
        }
        allowed_models = self._get_allowed_target_models()
        templates = {}
        for key in TEMPLATE_KEYS:
            title, description = texts[key]
            reason = self._get_campaign_template_problem(TEMPLATE_MODELS[key], allowed_models)
            templates[key] = {
                "title": title,
                "description": description,
                "icon": TEMPLATE_ICONS[key],
                "model": TEMPLATE_MODELS[key],
                "available": not reason,
                "unavailable_reason": reason or False,
            }
        return templates

    @api.model
    def action_create_campaign_from_template(self, template_key):
        """Create the draft campaign of template ``template_key``, the current
        user responsible, and return the action opening its form."""
        campaign = self._create_campaign_from_template(template_key)
        action = self.env["ir.actions.actions"]._for_xml_id(
            "marketing_automation_community.marketing_campaign_action"
        )
        action.update({"res_id": campaign.id, "views": [(False, "form")], "view_mode": "form"})
        return action

    @api.model
    def _create_campaign_from_template(self, template_key):
        info = self.get_campaign_templates_info().get(template_key)
        if not info:
            raise UserError(self.env._("There is no campaign template %(key)s.", key=template_key))
        if not info["available"]:
            raise UserError(info["unavailable_reason"])
        return getattr(self, f"_create_template_{template_key}")()

    @api.model
    def _get_campaign_template_problem(self, model_name, allowed_models):
        """Why the current user cannot use a template targeting ``model_name``
        (its app is missing, or the user cannot update its records, which the
        template's server action does with the user's rights), or None.
        ``allowed_models`` are the targets the user may choose."""
        if model_name not in self.env:
            return self.env._("Install CRM to use this template: it targets leads.")
        model = self.env["ir.model"]._get(model_name)
        if model not in allowed_models or not self.env[model_name].has_access("write"):
            return self.env._(
                "Needs the right to edit the %(model)s records, which the campaign updates "
                "with your rights.",
                model=model.name,
            )
        return None

    # ------------------------------------------------------------
    # TEMPLATES
    # ------------------------------------------------------------

    @api.model
    def _create_template_hot_contacts(self):
        campaign = self._create_template_campaign(
            self.env._("Tag Hot Contacts"),
            "res.partner",
            [("email", "!=", False), ("is_blacklisted", "=", False)],
            unique_field="email",
        )
        welcome = self._create_template_activity(
            campaign,
            self.env._("Welcome"),
            mailing=self._create_template_mailing(
                campaign, "hot_contacts", self.env._("Welcome! Discover what we do")
            ),
            interval=(1, "hours"),
        )
        self._create_template_activity(
            campaign,
            self.env._("Tag as hot"),
            step={
                "activity_type": "tag",
                "tag_operation": "add",
                "tag_ids": [Command.set(self._get_hot_tag().ids)],
            },
            parent=welcome,
            trigger="mail_click",
            interval=(0, "hours"),
            validity=(30, "days"),
        )
        return campaign

    @api.model
    def _create_template_welcome(self):
        campaign = self._create_template_campaign(
            self.env._("Welcome Flow"),
            "mailing.contact",
            [
                ("email", "!=", False),
                ("is_blacklisted", "=", False),
                ("subscribed_list_ids", "!=", False),
            ],
            unique_field="email",
        )
        welcome = self._create_template_activity(
            campaign,
            self.env._("Welcome"),
            mailing=self._create_template_mailing(
                campaign, "welcome", self.env._("Welcome to our newsletter")
            ),
            interval=(1, "hours"),
        )
        self._create_template_activity(
            campaign,
            self.env._("Remove bounced address"),
            server_action=self._create_template_server_action(
                campaign,
                self.env._("Remove bounced address"),
                state="code",
                code="records._marketing_remove_bounced_address()",
            ),
            parent=welcome,
            trigger="mail_bounce",
            interval=(0, "hours"),
            validity=(7, "days"),
        )
        return campaign

    @api.model
    def _create_template_ab_test_welcome(self):
        """New subscribers go down one of two branches of an A/B split, each a
        variant of the welcome email; the split's results compare them."""
        campaign = self._create_template_campaign(
            self.env._("A/B test a welcome email"),
            "mailing.contact",
            [
                ("email", "!=", False),
                ("is_blacklisted", "=", False),
                ("subscribed_list_ids", "!=", False),
            ],
            unique_field="email",
        )
        split = self._create_template_activity(
            campaign, self.env._("A/B split"), interval=(0, "hours")
        )
        for name, subject in (
            (self.env._("Welcome A"), self.env._("Welcome to our newsletter")),
            (self.env._("Welcome B"), self.env._("Welcome! Here is what you will get")),
        ):
            self._create_template_activity(
                campaign,
                name,
                mailing=self._create_template_mailing(campaign, "welcome", subject),
                parent=split,
                trigger="activity",
                interval=(1, "hours"),
                split_weight=50,
            )
        return campaign

    @api.model
    def _create_template_double_opt_in(self):
        """As documented: contacts joining a *Newsletter* list confirm their
        consent by clicking the single link of the confirmation email, which
        subscribes them to *Confirmed contacts* (the unsubscribe link is never
        a click)."""
        confirmed_list = self._get_confirmed_contacts_list()
        campaign = self._create_template_campaign(
            self.env._("Double Opt-in"),
            "mailing.contact",
            [
                ("email", "!=", False),
                ("is_blacklisted", "=", False),
                ("subscribed_list_ids.name", "ilike", "Newsletter"),
            ],
            unique_field="email",
        )
        confirmation = self._create_template_activity(
            campaign,
            self.env._("Confirmation"),
            mailing=self._create_template_mailing(
                campaign, "double_opt_in", self.env._("Confirm your subscription")
            ),
            interval=(1, "hours"),
        )
        self._create_template_activity(
            campaign,
            self.env._("Add to list"),
            step={
                "activity_type": "mailing_list",
                "mailing_list_operation": "add",
                "mailing_list_id": confirmed_list.id,
            },
            parent=confirmation,
            trigger="mail_click",
            interval=(0, "hours"),
            validity=(7, "days"),
        )
        return campaign

    @api.model
    def _create_template_commercial_prospection(self):
        campaign = self._create_template_campaign(
            self.env._("Commercial prospection"),
            "crm.lead",
            [("email_from", "!=", False), ("is_blacklisted", "=", False)],
            unique_field="email_normalized",
        )
        catalog = self._create_template_activity(
            campaign,
            self.env._("Free catalog"),
            mailing=self._create_template_mailing(
                campaign, "commercial_prospection", self.env._("Your free catalog")
            ),
            interval=(1, "hours"),
        )
        self._create_template_activity(
            campaign,
            self.env._("Follow up"),
            step=self._get_template_call_step(self.env._("Follow up: the catalog interested them")),
            parent=catalog,
            trigger="mail_click",
            interval=(0, "hours"),
            validity=(14, "days"),
        )
        self._create_template_activity(
            campaign,
            self.env._("Catalog reminder"),
            mailing=self._create_template_sms(
                campaign,
                self.env._("Catalog reminder"),
                self.env._(
                    "Did you see our free catalog? Browse it here: %(url)s",
                    url=self.get_base_url(),
                ),
            ),
            parent=catalog,
            trigger="mail_not_open",
            interval=(3, "days"),
            validity=(1, "days"),
        )
        return campaign

    @api.model
    def _create_template_schedule_calls(self):
        campaign = self._create_template_campaign(
            self.env._("Schedule Calls"),
            "crm.lead",
            [
                ("partner_id", "!=", False),
                ("user_id", "!=", False),
                ("create_date", ">=", fields.Datetime.to_string(self.env.cr.now())),
            ],
            unique_field=None,
        )
        self._create_template_activity(
            campaign,
            self.env._("Schedule a call"),
            step=self._get_template_call_step(self.env._("Call about their new request")),
            interval=(0, "hours"),
            validity=(1, "days"),
        )
        return campaign

    @api.model
    def _create_template_prioritize_hot_leads(self):
        campaign = self._create_template_campaign(
            self.env._("Prioritize Hot leads"),
            "crm.lead",
            [
                ("email_from", "!=", False),
                ("is_blacklisted", "=", False),
                ("create_date", ">=", fields.Datetime.to_string(self.env.cr.now())),
            ],
            unique_field="email_normalized",
        )
        welcome = self._create_template_activity(
            campaign,
            self.env._("Thank you for your interest"),
            mailing=self._create_template_mailing(
                campaign, "prioritize_hot_leads", self.env._("Thank you for your interest")
            ),
            interval=(1, "hours"),
        )
        self._create_template_activity(
            campaign,
            self.env._("Set priority high"),
            step={
                "activity_type": "set_field",
                "set_field_id": self.env["ir.model.fields"]._get("crm.lead", "priority").id,
                # High
                "set_field_value": "2",
            },
            parent=welcome,
            trigger="mail_open",
            interval=(0, "hours"),
            validity=(14, "days"),
        )
        return campaign

    @api.model
    def _create_template_closing_reminder(self):
        """A step relative to a date of the record: open opportunities get an
        email 3 days before their expected closing (``date_deadline``), in
        office hours on their wall clock; moving the date moves the email."""
        campaign = self._create_template_campaign(
            self.env._("Before the expected closing"),
            "crm.lead",
            [
                ("email_from", "!=", False),
                ("is_blacklisted", "=", False),
                ("date_deadline", "!=", False),
                ("probability", "<", 100),
            ],
            unique_field=None,
        )
        reminder = self._create_template_activity(
            campaign,
            self.env._("Reminder before closing"),
            mailing=self._create_template_mailing(
                campaign, "closing_reminder", self.env._("Any questions before you decide?")
            ),
            interval=(3, "days"),
            validity=(2, "days"),
        )
        reminder.write(
            {
                "trigger_type": "date",
                "date_field_id": self.env["ir.model.fields"]._get("crm.lead", "date_deadline").id,
                "date_offset": "before",
                "send_hour_from": 9,
                "send_hour_to": 17,
                "send_weekdays_only": True,
            }
        )
        return campaign

    # ------------------------------------------------------------
    # TOOLS
    # ------------------------------------------------------------

    @api.model
    def _create_template_campaign(self, name, model_name, domain, unique_field):
        """The draft campaign of a template; the current user is responsible."""
        model = self.env["ir.model"]._get(model_name)
        return self.create(
            {
                "name": name,
                "model_id": model.id,
                "domain": repr(domain),
                "unique_field_id": unique_field
                and self.env["ir.model.fields"]._get(model_name, unique_field).id,
            }
        )

    @api.model
    def _create_template_activity(
        self,
        campaign,
        name,
        mailing=None,
        server_action=None,
        step=None,
        parent=None,
        trigger="begin",
        interval=(1, "hours"),
        validity=None,
        split_weight=0,
    ):
        if step:
            content = step
        elif not mailing and not server_action:
            content = {"activity_type": "split"}
        elif server_action:
            content = {"activity_type": "action", "server_action_id": server_action.id}
        else:
            content = {
                "activity_type": ACTIVITY_TYPES_BY_MAILING_TYPE[mailing.mailing_type],
                "mass_mailing_id": mailing.id,
            }
        return self.env["marketing.activity"].create(
            {
                "name": name,
                "campaign_id": campaign.id,
                # in the order the template gives them, parents first
                "sequence": len(campaign.marketing_activity_ids) + 1,
                **content,
                "parent_id": parent.id if parent else False,
                "trigger_type": trigger,
                "interval_number": interval[0],
                "interval_type": interval[1],
                "validity_duration": bool(validity),
                "validity_duration_number": validity[0] if validity else 0,
                "validity_duration_type": validity[1] if validity else "hours",
                "split_weight": split_weight,
            }
        )

    @api.model
    def _create_template_mailing(self, campaign, key, subject):
        """The email of a template: its body is the QWeb template of ``key``
        rendered in the user's language, greeting each recipient by name and
        ending with the unsubscribe link."""
        body = self.env["ir.qweb"]._render(
            MAIL_BODY_TEMPLATE.format(key=key),
            {
                "recipient_name": RECIPIENT_NAMES[campaign.model_name],
                "website_url": self.get_base_url(),
                "company": self.env.company,
            },
        )
        return self.env["mailing.mailing"].create(
            {
                "subject": subject,
                "mailing_type": "mail",
                "mailing_model_id": campaign.model_id.id,
                "use_in_marketing_automation": True,
                "body_arch": body,
                "body_html": body,
            }
        )

    @api.model
    def _create_template_sms(self, campaign, subject, text):
        return self.env["mailing.mailing"].create(
            {
                "subject": subject,
                "mailing_type": "sms",
                "mailing_model_id": campaign.model_id.id,
                "use_in_marketing_automation": True,
                "body_plaintext": text,
            }
        )

    @api.model
    def _create_template_server_action(self, campaign, name, **values):
        """The server action of a template, restricted to Marketing Automation
        users. Marketing users only read server actions (see the access
        rights): sudo creates this fixed action of the template, a non-code
        action or one line calling a method of the target model, which nobody
        has to edit. It runs with the rights of the campaign's responsible.

        The action belongs to the module (an external id kept by updates):
        uninstalling the module removes it with the campaigns, instead of
        leaving an action that calls a method which no longer exists."""
        # sudo: see above; the external id is bookkeeping of the same action
        action = (
            self.env["ir.actions.server"]
            .sudo()
            .create(
                {
                    "name": name,
                    "model_id": campaign.model_id.id,
                    "groups_id": [
                        fields.Command.link(
                            self.env.ref(
                                "marketing_automation_community.group_marketing_automation_user"
                            ).id
                        )
                    ],
                    **values,
                }
            )
        )
        self.env["ir.model.data"].sudo().create(
            {
                "module": "marketing_automation_community",
                "name": f"campaign_template_action_{action.id}",
                "model": action._name,
                "res_id": action.id,
                "noupdate": True,
            }
        )
        return action.sudo(False)

    @api.model
    def _get_template_call_step(self, summary):
        """A call planned for the lead's salesperson, due the next day."""
        return {
            "activity_type": "plan_activity",
            "plan_activity_type_id": self.env.ref("mail.mail_activity_data_call").id,
            "plan_summary": summary,
            "plan_deadline_days": 1,
            "plan_user_type": "salesperson",
        }

    @api.model
    def _get_confirmed_contacts_list(self):
        """The *Confirmed contacts* mailing list of Double Opt-in: created the
        first time the template is used, then reused."""
        name = self.env._("Confirmed contacts")
        MailingList = self.env["mailing.list"]
        existing = MailingList.search([("name", "in", list({name, "Confirmed contacts"}))], limit=1)
        return existing or MailingList.create({"name": name})

    @api.model
    def _get_hot_tag(self):
        """The contact tag *Hot* of Tag Hot Contacts: created once, then reused."""
        name = self.env._("Hot")
        Tag = self.env["res.partner.category"]
        existing = Tag.search([("name", "in", list({name, "Hot"}))], limit=1)
        return existing or Tag.create({"name": name})
