from dataclasses import dataclass

from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools.translate import LazyGettext, LazyTranslate

from .marketing_activity import ACTIVITY_TYPES_BY_MAILING_TYPE

_lt = LazyTranslate(__name__)

# "email set and not blacklisted", and "subscribed to a list": the blueprints' filters
_REACHABLE = '("email", "!=", False), ("is_blacklisted", "=", False)'
_LEAD_REACHABLE = '("email_from", "!=", False), ("is_blacklisted", "=", False)'
# created since yesterday, evaluated each time the campaign enrols: a started
# campaign takes the new leads, not those of the past years
_CREATED_RECENTLY = (
    '("create_date", ">=", (context_today() - relativedelta(days=1)).strftime("%Y-%m-%d"))'
)


@dataclass(frozen=True)
class Blueprint:
    """A campaign ready to start, offered as a card of the Campaigns view (and
    over RPC as a "campaign template", the public name). ``build`` is the
    method of ``marketing.campaign`` that adds the workflow, with its mailings,
    to the draft campaign made of the other fields."""

    key: str
    title: LazyGettext
    description: LazyGettext
    # a Font Awesome class
    icon: str
    # the target; a target missing from Email and SMS Marketing comes with its app
    model: str
    # the filter, as a user would write it (evaluated at each enrolment)
    domain: str
    # the field of *Unique per* (None: one participant per record)
    unique_field: str | None
    build: str


# in the order of the cards
BLUEPRINTS = {
    blueprint.key: blueprint
    for blueprint in (
        Blueprint(
            key="hot_contacts",
            title=_lt("Tag Hot Contacts"),
            description=_lt("Send a welcome email to contacts and tag those who click in it."),
            icon="fa-tag",
            model="res.partner",
            domain=f"[{_REACHABLE}]",
            unique_field="email",
            build="_build_hot_contacts",
        ),
        Blueprint(
            key="welcome",
            title=_lt("Welcome Flow"),
            description=_lt(
                "Send a welcome email to new subscribers, remove the addresses that bounced."
            ),
            icon="fa-hand-peace-o",
            model="mailing.contact",
            domain=f'[{_REACHABLE}, ("subscribed_list_ids", "!=", False)]',
            unique_field="email",
            build="_build_welcome",
        ),
        Blueprint(
            key="double_opt_in",
            title=_lt("Double Opt-in"),
            description=_lt("Send an email to new recipients to confirm their consent."),
            icon="fa-check-square",
            model="mailing.contact",
            domain=f'[{_REACHABLE}, ("subscribed_list_ids.name", "ilike", "Newsletter")]',
            unique_field="email",
            build="_build_double_opt_in",
        ),
        Blueprint(
            key="commercial_prospection",
            title=_lt("Commercial prospection"),
            description=_lt("Send a free catalog and follow up according to reactions."),
            icon="fa-search",
            model="crm.lead",
            domain=f"[{_LEAD_REACHABLE}]",
            unique_field="email_normalized",
            build="_build_commercial_prospection",
        ),
        Blueprint(
            key="schedule_calls",
            title=_lt("Schedule Calls"),
            description=_lt(
                "If a lead is created for an existing contact, schedule a call with "
                "their salesperson."
            ),
            icon="fa-phone",
            model="crm.lead",
            domain=f'[("partner_id", "!=", False), ("user_id", "!=", False), {_CREATED_RECENTLY}]',
            # one call per customer, however many requests he sends at once
            unique_field="partner_id",
            build="_build_schedule_calls",
        ),
        Blueprint(
            key="prioritize_hot_leads",
            title=_lt("Prioritize Hot leads"),
            description=_lt("Send an email to new leads and raise their priority if they open it."),
            icon="fa-star",
            model="crm.lead",
            domain=f"[{_LEAD_REACHABLE}, {_CREATED_RECENTLY}]",
            unique_field="email_normalized",
            build="_build_prioritize_hot_leads",
        ),
        Blueprint(
            key="ab_test_welcome",
            title=_lt("A/B test a welcome email"),
            description=_lt(
                "Send one of two welcome emails to each new subscriber, half and half, "
                "and see which one gets more clicks."
            ),
            icon="fa-flask",
            model="mailing.contact",
            domain=f'[{_REACHABLE}, ("subscribed_list_ids", "!=", False)]',
            unique_field="email",
            build="_build_ab_test_welcome",
        ),
        Blueprint(
            key="closing_reminder",
            title=_lt("Before the expected closing"),
            description=_lt(
                "Email each opportunity 3 days before its expected closing, on a weekday "
                "between 9:00 and 17:00 of their time."
            ),
            icon="fa-calendar",
            model="crm.lead",
            domain=(
                f'[{_LEAD_REACHABLE}, ("date_deadline", "!=", False), ("probability", "<", 100)]'
            ),
            unique_field=None,
            build="_build_closing_reminder",
        ),
    )
}
# the mail bodies, QWeb templates of data/marketing_campaign_blueprint_data.xml
MAIL_BODY_TEMPLATE = "marketing_automation_community.campaign_blueprint_mail_{key}"
# how the mails greet their recipient, rendered when each mail is sent
RECIPIENT_NAMES = {
    "res.partner": Markup("<t t-out=\"object.name or ''\"/>"),
    "mailing.contact": Markup("<t t-out=\"object.name or ''\"/>"),
    "crm.lead": Markup("<t t-out=\"object.contact_name or object.partner_name or ''\"/>"),
}


class MarketingCampaign(models.Model):
    """The campaign blueprints of the Campaigns view (``BLUEPRINTS``, also for
    RPC, where they keep their public name of "campaign templates"): each
    builds a draft campaign with its workflow and its mailings, ready to start.

    Their steps on the record are activities of their own (tag, mailing list,
    plan an activity, update a field), run with the rights of the campaign's
    responsible. Only Welcome Flow's bounce step is a server action: one line
    calling a method of the target model, which nobody has to edit. The lead
    blueprints need CRM, an optional companion: they are offered only when
    ``crm.lead`` exists, and nothing here imports CRM.
    """

    _inherit = "marketing.campaign"

    @api.model
    def get_campaign_templates_info(self):
        """The campaign blueprints, keyed by their (template) key, in card
        order: their ``title``, ``description``, ``icon`` (a Font Awesome
        class), ``model``, ``available`` and, when it is not, the
        ``unavailable_reason``."""
        allowed_models = self._get_allowed_target_models()
        info = {}
        for key, blueprint in BLUEPRINTS.items():
            reason = self._get_blueprint_problem(blueprint, allowed_models)
            info[key] = {
                "title": self.env._(blueprint.title),
                "description": self.env._(blueprint.description),
                "icon": blueprint.icon,
                "model": blueprint.model,
                "available": not reason,
                "unavailable_reason": reason or False,
            }
        return info

    @api.model
    def action_create_campaign_from_template(self, template_key):
        """Create the draft campaign of blueprint ``template_key``, the current
        user responsible, and return the action opening its form."""
        campaign = self._create_campaign_from_blueprint(template_key)
        action = self.env["ir.actions.actions"]._for_xml_id(
            "marketing_automation_community.marketing_campaign_action"
        )
        action.update({"res_id": campaign.id, "views": [(False, "form")], "view_mode": "form"})
        return action

    @api.model
    def _create_campaign_from_blueprint(self, key):
        """The draft campaign of blueprint ``key`` with its whole workflow; the
        current user is responsible."""
        blueprint = BLUEPRINTS.get(key)
        if not blueprint:
            raise UserError(self.env._("There is no campaign template %(key)s.", key=key))
        if reason := self._get_blueprint_problem(blueprint, self._get_allowed_target_models()):
            raise UserError(reason)
        unique_field = blueprint.unique_field and self.env["ir.model.fields"]._get(
            blueprint.model, blueprint.unique_field
        )
        campaign = self.create(
            {
                "name": self.env._(blueprint.title),
                "model_id": self.env["ir.model"]._get(blueprint.model).id,
                "domain": blueprint.domain,
                "unique_field_id": unique_field.id if unique_field else False,
            }
        )
        getattr(self, blueprint.build)(campaign)
        return campaign

    @api.model
    def _get_blueprint_problem(self, blueprint, allowed_models):
        """Why the current user cannot use ``blueprint`` (its app is missing,
        or the user cannot update its records, which its steps do with the
        user's rights), or None. ``allowed_models`` are the targets the user
        may choose."""
        if blueprint.model not in self.env:
            return self.env._("Install CRM to use this template: it targets leads.")
        model = self.env["ir.model"]._get(blueprint.model)
        if model not in allowed_models or not self.env[blueprint.model].has_access("write"):
            return self.env._(
                "Needs the right to edit the %(model)s records, which the campaign updates "
                "with your rights.",
                model=model.name,
            )
        return None

    # ------------------------------------------------------------
    # BLUEPRINTS: the workflow of each
    # ------------------------------------------------------------

    @api.model
    def _build_hot_contacts(self, campaign):
        welcome = self._blueprint_activity(
            campaign,
            self.env._("Welcome"),
            mailing=self._blueprint_mailing(
                campaign, "hot_contacts", self.env._("Welcome! Discover what we do")
            ),
            interval=(1, "hours"),
        )
        self._blueprint_activity(
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

    @api.model
    def _build_welcome(self, campaign):
        welcome = self._blueprint_activity(
            campaign,
            self.env._("Welcome"),
            mailing=self._blueprint_mailing(
                campaign, "welcome", self.env._("Welcome to our newsletter")
            ),
            interval=(1, "hours"),
        )
        self._blueprint_activity(
            campaign,
            self.env._("Remove bounced address"),
            server_action=self._blueprint_server_action(
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

    @api.model
    def _build_ab_test_welcome(self, campaign):
        """New subscribers go down one of two branches of an A/B split, each a
        variant of the welcome email; the split's results compare them."""
        split = self._blueprint_activity(campaign, self.env._("A/B split"), interval=(0, "hours"))
        for name, subject in (
            (self.env._("Welcome A"), self.env._("Welcome to our newsletter")),
            (self.env._("Welcome B"), self.env._("Welcome! Here is what you will get")),
        ):
            self._blueprint_activity(
                campaign,
                name,
                mailing=self._blueprint_mailing(campaign, "welcome", subject),
                parent=split,
                trigger="activity",
                interval=(1, "hours"),
                split_weight=50,
            )

    @api.model
    def _build_double_opt_in(self, campaign):
        """As documented: contacts joining a *Newsletter* list confirm their
        consent by clicking the single link of the confirmation email, which
        subscribes them to *Confirmed contacts* (the unsubscribe link is never
        a click)."""
        confirmed_list = self._get_confirmed_contacts_list()
        confirmation = self._blueprint_activity(
            campaign,
            self.env._("Confirmation"),
            mailing=self._blueprint_mailing(
                campaign, "double_opt_in", self.env._("Confirm your subscription")
            ),
            interval=(1, "hours"),
        )
        self._blueprint_activity(
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

    @api.model
    def _build_commercial_prospection(self, campaign):
        catalog = self._blueprint_activity(
            campaign,
            self.env._("Free catalog"),
            mailing=self._blueprint_mailing(
                campaign, "commercial_prospection", self.env._("Your free catalog")
            ),
            interval=(1, "hours"),
        )
        self._blueprint_activity(
            campaign,
            self.env._("Follow up"),
            step=self._blueprint_call_step(self.env._("Follow up: the catalog interested them")),
            parent=catalog,
            trigger="mail_click",
            interval=(0, "hours"),
            validity=(14, "days"),
        )
        self._blueprint_activity(
            campaign,
            self.env._("Catalog reminder"),
            mailing=self._blueprint_sms(
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

    @api.model
    def _build_schedule_calls(self, campaign):
        self._blueprint_activity(
            campaign,
            self.env._("Schedule a call"),
            step=self._blueprint_call_step(self.env._("Call about their new request")),
            interval=(0, "hours"),
            validity=(1, "days"),
        )

    @api.model
    def _build_prioritize_hot_leads(self, campaign):
        welcome = self._blueprint_activity(
            campaign,
            self.env._("Thank you for your interest"),
            mailing=self._blueprint_mailing(
                campaign, "prioritize_hot_leads", self.env._("Thank you for your interest")
            ),
            interval=(1, "hours"),
        )
        self._blueprint_activity(
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

    @api.model
    def _build_closing_reminder(self, campaign):
        """A step relative to a date of the record: open opportunities get an
        email 3 days before their expected closing (``date_deadline``), in
        office hours on their wall clock; moving the date moves the email."""
        reminder = self._blueprint_activity(
            campaign,
            self.env._("Reminder before closing"),
            mailing=self._blueprint_mailing(
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

    # ------------------------------------------------------------
    # TOOLS
    # ------------------------------------------------------------

    @api.model
    def _blueprint_activity(
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
                # in the order the blueprint gives them, parents first
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
    def _blueprint_mailing(self, campaign, key, subject):
        """The email of a blueprint: its body is the QWeb template of ``key``
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
    def _blueprint_sms(self, campaign, subject, text):
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
    def _blueprint_server_action(self, campaign, name, **values):
        """The server action of a blueprint, restricted to Marketing Automation
        users. Marketing users only read server actions (see the access
        rights): sudo creates this fixed action of the blueprint, a non-code
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
                "name": f"campaign_blueprint_action_{action.id}",
                "model": action._name,
                "res_id": action.id,
                "noupdate": True,
            }
        )
        return action.sudo(False)

    @api.model
    def _blueprint_call_step(self, summary):
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
        first time the blueprint is used, then reused."""
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
