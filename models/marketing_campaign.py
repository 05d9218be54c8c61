import logging
from datetime import datetime, time, timedelta

import pytz

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools.translate import LazyTranslate

from ..tools.cache import invalidate_dependents
from ..tools.filter_eval import FilterError, FilterEvaluator
from ..tools.triggers import EVENTS

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

# Odoo's technical and security models, and the messages of Discuss, are never
# targets: a campaign enrols what its filter finds and runs actions on it.
DENIED_TARGET_PREFIXES = (
    "ir.",
    "base",
    "bus.",
    "res.users",
    "res.groups",
    "res.company",
    "res.config",
    "res.device",
    "mail.",
    "discuss.",
    "marketing.",
    "mailing.mailing",
    "mailing.trace",
    "sms.",
    "iap.",
    "auth_",
    "privacy.",
)
# the fields through which a target's records are reached, besides its phones
# (``_phone_get_number_fields``) and its contact (``partner_id``)
RECIPIENT_FIELDS = ("email", "email_from", "email_normalized")
# what participants are unique per (on ir.model.fields): a stored email, phone,
# mobile or name, or a contact; not a colour, a barcode or an internal number
UNIQUE_FIELD_CHOICES = [
    ("store", "=", True),
    "|",
    "&",
    ("ttype", "=", "char"),
    "|",
    "|",
    "|",
    ("name", "ilike", "email"),
    ("name", "ilike", "phone"),
    ("name", "ilike", "mobile"),
    ("name", "ilike", "name"),
    "&",
    ("ttype", "=", "many2one"),
    ("relation", "=", "res.partner"),
]
RESPONSIBLE_GROUP = "marketing_automation_community.group_marketing_automation_user"
MANAGER_GROUP = "marketing_automation_community.group_marketing_automation_manager"
# Start and Stop change the state under this context key; its value cannot come
# from a remote call (a JSON context holds no Python object), so users cannot
STATE_CHANGE_KEY = "marketing_automation_state_change"
STATE_CHANGE = object()
# the condition that Odoo's filter editor writes for its "Include archived" switch
ARCHIVED_LEAF = ("active", "in", [True, False])
# the workflow and enrolment settings: whoever changes them becomes responsible
ENGINE_FIELDS = {
    "model_id",
    "domain",
    "include_archived",
    "unique_field_id",
    "marketing_activity_ids",
    "company_id",
    "goal_domain",
}
# what decides who is enrolled: a change makes the scheduler enrol at its next
# call (see marketing.scheduler._is_enrolment_due)
ENROLMENT_FIELDS = ENGINE_FIELDS - {"marketing_activity_ids"}


class MarketingCampaign(models.Model):
    """A campaign targets the records of a model through a filter, turns each
    matching record into a participant and walks it through the workflow of
    its activities (see ``marketing.activity``).

    While running, the scheduler enrols new matching records continuously
    (``sync_participants``) and executes the traces that are due
    (``execute_activities``).
    """

    _name = "marketing.campaign"
    _description = "Marketing Automation Campaign"
    _inherit = ["mail.thread", "mail.activity.mixin", "marketing.filter.mixin"]
    _order = "create_date DESC, id DESC"
    _check_company_auto = True

    def _default_model_id(self):
        return self.env["ir.model"]._get("res.partner")

    def _default_user_id(self):
        user = self.env.user
        return user if not user._is_superuser() and self._is_responsible_user(user) else False

    def _get_user_id_domain(self):
        return [
            ("groups_id", "in", self.env.ref(RESPONSIBLE_GROUP, raise_if_not_found=False).ids),
            ("share", "=", False),
            ("id", "!=", SUPERUSER_ID),
        ]

    def _get_model_id_domain(self):
        return [("id", "in", self._get_offered_target_models().ids)]

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True)
    state = fields.Selection(
        [("draft", "New"), ("running", "Running"), ("stopped", "Stopped")],
        default="draft",
        required=True,
        copy=False,
        tracking=True,
        index=True,
        group_expand=True,
    )
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        required=True,
        default=_default_user_id,
        domain=_get_user_id_domain,
        check_company=True,
        tracking=True,
        help="Participants are enrolled and activities run with the access rights of this "
        "user. Whoever changes the workflow or the filter, starts, updates or tests the "
        "campaign becomes its responsible.",
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        index=True,
    )
    # target
    model_id = fields.Many2one(
        "ir.model",
        string="Target",
        required=True,
        ondelete="cascade",
        default=_default_model_id,
        domain=_get_model_id_domain,
        tracking=True,
        help="The model whose records become participants of the campaign.",
    )
    model_name = fields.Char(
        string="Target Model", related="model_id.model", store=True, readonly=True
    )
    domain = fields.Char(
        help="Only records matching this filter are enrolled, and every activity re-checks it.",
    )
    include_archived = fields.Boolean(
        "Include archived",
        compute="_compute_include_archived",
        inverse="_inverse_include_archived",
        store=True,
        readonly=False,
        help="Also target archived records of the target model: the filter holds the "
        "condition that Odoo's filter editor writes with its Include archived switch.",
    )
    favorite_filter_id = fields.Many2one(
        help="Load a saved filter into the filter of the campaign.",
    )
    unique_field_id = fields.Many2one(
        "ir.model.fields",
        string="Unique per",
        ondelete="set null",
        domain=f"[('model_id', '=', model_id), {', '.join(map(repr, UNIQUE_FIELD_CHOICES))}]",
        help="At most one participant per value of this field (e.g. the email). "
        "Records with an empty value are deduplicated on the record itself.",
    )
    goal_domain = fields.Char(
        "Goal",
        help="What the campaign wants its participants to do, as a filter on the target "
        "(a lead won, a tag, a purchase). A participant whose record matches it reaches the "
        "goal: the rest of its journey is canceled and it counts as converted. Empty: no goal.",
    )
    goal_participant_count = fields.Integer(
        "Goal Reached", compute="_compute_goal_counts", help="Participants who reached the goal."
    )
    goal_rate = fields.Float(
        "Conversion (%)",
        compute="_compute_goal_counts",
        digits=(5, 1),
        help="The percentage of the participants (tests excluded) who reached the goal.",
    )
    utm_campaign_id = fields.Many2one(
        "utm.campaign",
        string="UTM Campaign",
        ondelete="restrict",
        copy=False,
        help="Ties the mailings, SMS and links of the campaign to UTM reporting.",
    )
    # workflow
    marketing_activity_ids = fields.One2many("marketing.activity", "campaign_id", string="Workflow")
    participant_ids = fields.One2many("marketing.participant", "campaign_id", string="Participants")
    last_sync_date = fields.Datetime("Last Synchronization", copy=False, readonly=True)
    scheduler_error = fields.Text(
        copy=False,
        readonly=True,
        help="Why the scheduler could not enrol participants or run the activities of the "
        "campaign at its last run.",
    )
    require_sync = fields.Boolean(
        "Activities Changed",
        copy=False,
        readonly=True,
        help="The workflow changed while the campaign has participants: an update is pending.",
    )
    # statistics
    running_participant_count = fields.Integer(
        "Running Participants", compute="_compute_participant_counts"
    )
    completed_participant_count = fields.Integer(
        "Completed Participants", compute="_compute_participant_counts"
    )
    total_participant_count = fields.Integer(
        "Participant Count", compute="_compute_participant_counts"
    )
    test_participant_count = fields.Integer("Test Count", compute="_compute_participant_counts")
    error_trace_count = fields.Integer("Failed Traces", compute="_compute_error_trace_count")
    processed_week_count = fields.Integer(
        "Done in 7 Days",
        compute="_compute_processed_week_count",
        help="Activities run for participants in the last 7 days.",
    )
    mailing_count = fields.Integer("Templates", compute="_compute_mailing_count")
    link_click_count = fields.Integer("Clicks", compute="_compute_link_click_count")

    @api.depends("participant_ids.state", "participant_ids.is_test")
    def _compute_participant_counts(self):
        counts = {
            (campaign.id, state, is_test): count
            for campaign, state, is_test, count in self.env["marketing.participant"]._read_group(
                [("campaign_id", "in", self.ids)],
                ["campaign_id", "state", "is_test"],
                ["__count"],
            )
        }
        for campaign in self:
            running = counts.get((campaign.id, "running", False), 0)
            completed = counts.get((campaign.id, "completed", False), 0)
            unlinked = counts.get((campaign.id, "unlinked", False), 0)
            campaign.running_participant_count = running
            campaign.completed_participant_count = completed
            campaign.total_participant_count = running + completed + unlinked
            campaign.test_participant_count = sum(
                counts.get((campaign.id, state, True), 0)
                for state in ("running", "completed", "unlinked")
            )

    @api.depends("participant_ids.goal_reached_date", "participant_ids.is_test")
    def _compute_goal_counts(self):
        Participant = self.env["marketing.participant"]
        domain = [("campaign_id", "in", self.ids), ("is_test", "=", False)]
        totals = dict(Participant._read_group(domain, ["campaign_id"], ["__count"]))
        reached = dict(
            Participant._read_group(
                [*domain, ("goal_reached_date", "!=", False)], ["campaign_id"], ["__count"]
            )
        )
        for campaign in self:
            total = totals.get(campaign, 0)
            campaign.goal_participant_count = reached.get(campaign, 0)
            campaign.goal_rate = 100.0 * reached.get(campaign, 0) / total if total else 0.0

    @api.depends("domain")
    def _compute_include_archived(self):
        for campaign in self:
            try:
                domain = campaign._get_filter_evaluator().evaluate(campaign.domain)
            except FilterError:
                domain = []
            campaign.include_archived = any(
                campaign._is_archived_leaf(leaf)
                for leaf in domain
                if isinstance(leaf, tuple | list)
            )

    def _inverse_include_archived(self):
        """Set from the API, the switch writes or removes the condition of the
        filter editor's switch, so both always agree."""
        for campaign in self:
            try:
                domain = FilterEvaluator.literal(self.env._).evaluate(campaign.domain)
            except FilterError:
                raise UserError(
                    _(
                        "The filter of campaign %(campaign)s is computed: switch “Include "
                        "archived” in its filter editor.",
                        campaign=campaign.name,
                    )
                ) from None
            has_leaf = any(
                campaign._is_archived_leaf(leaf)
                for leaf in domain
                if isinstance(leaf, tuple | list)
            )
            if campaign.include_archived and not has_leaf:
                domain = expression.AND([[ARCHIVED_LEAF], domain]) if domain else [ARCHIVED_LEAF]
            elif not campaign.include_archived and has_leaf:
                domain = expression.normalize_domain(domain)
                if all(item == "&" or not isinstance(item, str) for item in domain):
                    # conditions all joined by AND: drop the switch's condition
                    domain = [
                        leaf
                        for leaf in domain
                        if not isinstance(leaf, str) and not campaign._is_archived_leaf(leaf)
                    ]
                else:
                    domain = [
                        expression.TRUE_LEAF
                        if not isinstance(leaf, str) and campaign._is_archived_leaf(leaf)
                        else leaf
                        for leaf in domain
                    ]
            else:
                continue
            campaign.domain = repr(domain)

    @staticmethod
    def _is_archived_leaf(leaf):
        return (
            len(leaf) == 3
            and leaf[0] == "active"
            and leaf[1] == "in"
            and isinstance(leaf[2], list | tuple)
            and set(leaf[2]) == {True, False}
        )

    def _compute_error_trace_count(self):
        counts = dict(
            self.env["marketing.trace"]._read_group(
                [("campaign_id", "in", self.ids), ("state", "=", "error"), ("is_test", "=", False)],
                ["campaign_id"],
                ["__count"],
            )
        )
        for campaign in self:
            campaign.error_trace_count = counts.get(campaign, 0)

    def _compute_processed_week_count(self):
        counts = dict(
            self.env["marketing.trace"]._read_group(
                [
                    ("campaign_id", "in", self.ids),
                    ("state", "=", "processed"),
                    ("is_test", "=", False),
                    ("schedule_date", ">=", fields.Datetime.now() - timedelta(days=7)),
                ],
                ["campaign_id"],
                ["__count"],
            )
        )
        for campaign in self:
            campaign.processed_week_count = counts.get(campaign, 0)

    @api.depends("marketing_activity_ids.mass_mailing_id")
    def _compute_mailing_count(self):
        for campaign in self:
            campaign.mailing_count = len(campaign.marketing_activity_ids.mass_mailing_id)

    def _compute_link_click_count(self):
        counts = dict(
            self.env["marketing.link.click.report"]._read_group(
                [("campaign_id", "in", self.ids), ("is_test", "=", False)],
                ["campaign_id"],
                ["__count"],
            )
        )
        for campaign in self:
            campaign.link_click_count = counts.get(campaign, 0)

    @api.constrains("domain", "model_id")
    def _check_domain(self):
        # a target the user may not use is reported by _check_model_id, not as a bad filter
        allowed = self._get_allowed_target_models()
        for campaign in self.filtered(lambda c: c.model_id in allowed):
            campaign._parse_domain(campaign.domain)

    @api.constrains("goal_domain", "model_id")
    def _check_goal_domain(self):
        allowed = self._get_allowed_target_models()
        for campaign in self.filtered(lambda c: c.goal_domain and c.model_id in allowed):
            campaign._parse_domain(campaign.goal_domain)

    @api.constrains("model_id")
    def _check_model_id(self):
        allowed = self._get_allowed_target_models()
        for campaign in self.filtered(lambda c: c.model_id not in allowed):
            raise ValidationError(
                _(
                    "Campaign %(campaign)s cannot target %(model)s: a campaign targets "
                    "business records you can read (contacts, leads, mailing contacts...), "
                    "never Odoo's technical or security models.",
                    campaign=campaign.name,
                    model=campaign.model_id.name,
                )
            )

    @api.constrains("unique_field_id", "model_id")
    def _check_unique_field(self):
        for campaign in self.filtered("unique_field_id"):
            field = campaign.unique_field_id
            if field.model_id != campaign.model_id:
                raise ValidationError(
                    _(
                        "Participants can only be unique per a field of the target "
                        "%(model)s, not %(field)s.",
                        field=field.field_description,
                        model=campaign.model_id.name,
                    )
                )
            model_field = self.env[campaign.model_name]._fields.get(field.name)
            if not (
                model_field
                and model_field.store
                and model_field.column_type
                and field.filtered_domain(UNIQUE_FIELD_CHOICES)
                and model_field.is_accessible(self.env)
            ):
                raise ValidationError(
                    _(
                        "Participants cannot be unique per %(field)s: choose a field that "
                        "tells people apart and that you can read: an email, a phone, a name "
                        "or a contact.",
                        field=field.field_description,
                    )
                )

    @api.constrains("user_id", "company_id")
    def _check_user_id(self):
        for campaign in self:
            user = campaign.user_id
            if user._is_superuser() or not self._is_responsible_user(user):
                raise ValidationError(
                    _(
                        "The responsible of campaign %(campaign)s must be an active Marketing "
                        "Automation user: the campaign enrols participants and runs its "
                        "activities with the access rights of that user.",
                        campaign=campaign.name,
                    )
                )
            if campaign.company_id not in user.company_ids:
                raise ValidationError(
                    _(
                        "%(user)s cannot be responsible of campaign %(campaign)s: this user does "
                        "not belong to its company %(company)s.",
                        user=user.name,
                        campaign=campaign.name,
                        company=campaign.company_id.name,
                    )
                )

    @api.onchange("model_id")
    def _onchange_model_id(self):
        """A new target, said at once: refused when saved activities belong to
        the former one (``write`` refuses it too); else the filter, goal and
        unicity that name fields of the former target are emptied, and the
        activities not saved yet are to be reviewed."""
        former = self._origin.model_id
        if former and self.model_id != former and self._origin.marketing_activity_ids:
            target = self.model_id
            self.model_id = former
            return {
                "warning": {
                    "title": _("The target cannot change"),
                    "message": _(
                        "The activities of this campaign were made for %(former)s: their "
                        "filters, templates and actions belong to it. To target %(target)s, "
                        "create a new campaign (or duplicate this one and delete its "
                        "activities).",
                        former=former.name,
                        target=target.name,
                    ),
                }
            }
        if not self.model_id or self.model_id not in self._get_allowed_target_models():
            return None
        emptied = []
        for fname in ("domain", "goal_domain"):
            if self[fname] not in (False, "", "[]") and not self._fits_target(self[fname]):
                self[fname] = "[]" if fname == "domain" else False
                emptied.append(self._fields[fname]._description_string(self.env))
        if self.unique_field_id and self.unique_field_id.model_id != self.model_id:
            self.unique_field_id = False
            emptied.append(self._fields["unique_field_id"]._description_string(self.env))
        if not emptied and not self.marketing_activity_ids:
            return None
        sentences = []
        if emptied:
            sentences.append(
                _(
                    "Emptied, as they named fields that %(target)s does not have: %(fields)s.",
                    target=self.model_id.name,
                    fields=", ".join(emptied),
                )
            )
        if self.marketing_activity_ids:
            sentences.append(
                _(
                    "Review the %(count)s activities of the workflow: their filters and "
                    "templates were made for the former target, and the campaign cannot be "
                    "saved while a filter names a field that %(target)s does not have.",
                    count=len(self.marketing_activity_ids),
                    target=self.model_id.name,
                )
            )
        return {"warning": {"title": _("The target changed"), "message": " ".join(sentences)}}

    def _fits_target(self, domain):
        """Whether the filter ``domain`` can be read on the current target."""
        try:
            self._parse_domain(domain)
        except ValidationError:
            return False
        return True

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        if any(not vals.get("user_id", self._default_user_id()) for vals in vals_list):
            raise ValidationError(
                _(
                    "Choose the responsible of the campaign: an active Marketing Automation "
                    "user, whose rights the campaign uses."
                )
            )
        self._check_responsible_assignment(vals_list)
        self._check_company_assignment(vals_list)
        if any(vals.get("state", "draft") != "draft" for vals in vals_list):
            self._check_state_change()
        trees = [self._pop_unsaved_activity_tree(vals) for vals in vals_list]
        utm_vals = [
            {"name": vals["name"], "is_auto_campaign": True}
            for vals in vals_list
            if not vals.get("utm_campaign_id") and vals.get("name")
        ]
        utm_campaigns = iter(self.env["utm.campaign"].create(utm_vals))
        for vals in vals_list:
            if not vals.get("utm_campaign_id") and vals.get("name"):
                vals["utm_campaign_id"] = next(utm_campaigns).id
        campaigns = super().create(vals_list)
        for campaign, tree in zip(campaigns, trees, strict=True):
            campaign._create_unsaved_activity_tree(tree)
        return campaigns

    def write(self, vals):
        tree = self._pop_unsaved_activity_tree(vals)
        if "state" in vals:
            self._check_state_change()
        if "user_id" in vals:
            # even an unchanged responsible: passing it never escapes the rule below
            self._check_responsible_assignment([vals])
        if "company_id" in vals:
            self._check_company_change(vals["company_id"])
        if "model_id" in vals:
            changed = self.filtered(
                lambda campaign: (
                    campaign.model_id.id != vals["model_id"] and campaign.marketing_activity_ids
                )
            )
            if changed:
                raise ValidationError(
                    _(
                        "The target of campaign %(campaign)s cannot change once it has "
                        "activities: their filters, mailings and actions belong to the "
                        "current target.",
                        campaign=changed[0].name,
                    )
                )
        if (
            ENGINE_FIELDS.intersection(vals)
            and not self.env.su
            and not ("user_id" in vals and self.env.user.has_group("base.group_system"))
        ):
            # whoever changes what runs becomes responsible, whatever else is written
            # (only a Settings administrator names another responsible)
            vals = dict(vals, user_id=self.env.uid)
        if vals.get("last_sync_date") and not self.env.su:
            # a date in the future would hold back enrolment: the engine's alone
            raise AccessError(
                _(
                    "The date of the last enrolment is set by the scheduler only; "
                    "Start or Update a campaign to enrol its records again."
                )
            )
        if ENROLMENT_FIELDS.intersection(vals):
            vals = dict(vals, last_sync_date=False)
        res = super().write(vals)
        if tree:
            self.ensure_one()
            self._create_unsaved_activity_tree(tree)
        return res

    def _check_state_change(self):
        """A campaign starts and stops through Start and Stop only, which check
        it first (activities, content, responsible)."""
        if self.env.su or self.env.context.get(STATE_CHANGE_KEY) is STATE_CHANGE:
            return
        raise AccessError(
            _(
                "Campaigns are started and stopped with their Start and Stop buttons, which "
                "check them first: their state cannot be written."
            )
        )

    @api.model
    def _check_responsible_assignment(self, vals_list):
        """Participants are enrolled and server actions run with the rights of
        the responsible: a user only makes themselves responsible, and only
        Settings administrators choose someone else (a manager must not borrow
        the rights of the administrator)."""
        if self.env.su or self.env.user.has_group("base.group_system"):
            return
        assigned = {vals["user_id"] for vals in vals_list if vals.get("user_id")}
        if assigned - {self.env.uid}:
            raise AccessError(
                _(
                    "Only Settings administrators can make another user responsible of a "
                    "campaign: its participants are enrolled and its actions run with the "
                    "rights of its responsible. Make yourself responsible instead."
                )
            )

    @api.model
    def _check_company_assignment(self, vals_list):
        """A user only puts campaigns in the user's own companies."""
        if self.env.su:
            return
        companies = {vals["company_id"] for vals in vals_list if vals.get("company_id")}
        if companies - set(self.env.user.company_ids.ids):
            raise AccessError(_("You can only create campaigns in your own companies."))

    def _check_company_change(self, company_id):
        """A campaign changes company only before it has participants, and only
        to a company of the user: its participants and traces follow it."""
        changed = self.filtered(lambda c: c.company_id.id != company_id)
        if not changed:
            return
        self._check_company_assignment([{"company_id": company_id}])
        # sudo: only whether participants exist, including those of other companies' users
        with_participants = (
            self.env["marketing.participant"]
            .sudo()
            .search_count([("campaign_id", "in", changed.ids)], limit=1)
        )
        if with_participants:
            raise UserError(
                _(
                    "The company of a campaign cannot change once it has participants: "
                    "they were enrolled with the rules of its company."
                )
            )

    @api.model
    def _is_responsible_user(self, user):
        return bool(user and user.active and not user.share and user.has_group(RESPONSIBLE_GROUP))

    def _take_responsibility(self):
        """Whoever changes the workflow or the filter of a campaign, starts,
        updates or tests it, becomes its responsible: the campaign then runs with
        the rights of the user who chose what it does (the chatter shows the
        change). Only the superuser (installation, data files) keeps the
        responsible as it is."""
        if self.env.su:
            return
        others = self.filtered(lambda c: c.user_id != self.env.user)
        if others:
            others.write({"user_id": self.env.uid})

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        if not self.env.su:
            # the copy runs with the rights of the user who made it
            for vals in vals_list:
                vals.pop("user_id", None)
        return [
            dict(vals, name=self.env._("%(name)s (copy)", name=campaign.name))
            for campaign, vals in zip(self, vals_list, strict=True)
        ]

    def copy(self, default=None):
        """Duplicate the workflow tree with the campaign."""
        new_campaigns = super().copy(default=default)
        for campaign, new_campaign in zip(self, new_campaigns, strict=True):
            campaign.marketing_activity_ids.filtered(lambda a: not a.parent_id)._copy_tree(
                new_campaign
            )
        return new_campaigns

    def unlink(self):
        """The templates of the deleted campaigns do not linger as drafts."""
        mailings = self.marketing_activity_ids.mass_mailing_id
        res = super().unlink()
        mailings._drop_unused_marketing_templates()
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_other_responsible(self):
        """Marketing users delete the campaigns they are responsible for, as
        long as nobody took part in them; managers delete any (the
        participants and traces go with them)."""
        if self.env.su or self.env.user.has_group(MANAGER_GROUP):
            return
        if others := self.filtered(lambda c: c.user_id != self.env.user):
            raise AccessError(
                _(
                    "Only its responsible or a Marketing Automation administrator can delete "
                    "campaign %(campaign)s.",
                    campaign=others[0].name,
                )
            )
        for campaign, count in self.env["marketing.participant"]._read_group(
            [("campaign_id", "in", self.ids), ("is_test", "=", False)],
            ["campaign_id"],
            ["__count"],
        ):
            raise AccessError(
                _(
                    "Campaign %(campaign)s has %(count)s participants: only a Marketing "
                    "Automation administrator can delete it, with their history.",
                    campaign=campaign.name,
                    count=count,
                )
            )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_campaign_running(self):
        """Checked first (the ``ondelete`` methods run by name): for everyone."""
        if self.env.su:
            return
        if running := self.filtered(lambda c: c.state == "running"):
            raise UserError(
                _(
                    "Campaign %(campaign)s is running: stop it first, then delete it.",
                    campaign=running[0].name,
                )
            )

    @api.readonly
    def get_delete_confirmation(self):
        """The words of the confirmation shown before these campaigns are
        deleted: what goes with them, or that a running one must be stopped
        first (the ``_unlink_except_*`` methods enforce it, whatever the
        screen said). Counts what the user can read."""
        self.check_access("read")
        if running := self.filtered(lambda c: c.state == "running"):
            return {
                "can_delete": False,
                "title": _("Stop it first"),
                "body": _(
                    "Campaign %(campaign)s is running: stop it first, then delete it.",
                    campaign=running[0].name,
                ),
            }
        participants = self.env["marketing.participant"].search_count(
            [("campaign_id", "in", self.ids)]
        )
        traces = self.env["marketing.trace"].search_count([("campaign_id", "in", self.ids)])
        templates = len(self.marketing_activity_ids.mass_mailing_id)
        one = len(self) == 1
        title = (
            _("Delete campaign %(campaign)s?", campaign=self.name)
            if one
            else _("Delete these %(count)s campaigns?", count=len(self))
        )
        if not participants:
            sentences = [_("Nobody took part yet: no participant history is lost.")]
        elif one:
            sentences = [
                _(
                    "Deleted with it: %(participants)s participants and the history of their "
                    "%(traces)s steps (traces).",
                    participants=participants,
                    traces=traces,
                )
            ]
        else:
            sentences = [
                _(
                    "Deleted with them: %(participants)s participants and the history of their "
                    "%(traces)s steps (traces).",
                    participants=participants,
                    traces=traces,
                )
            ]
        if templates:
            sentences.append(
                _(
                    "The %(count)s email and SMS templates of the workflow: those never sent "
                    "are deleted, the others archived with their statistics.",
                    count=templates,
                )
            )
        sentences.append(
            _("This cannot be undone. To keep the history, archive instead of deleting.")
        )
        return {"can_delete": True, "title": title, "body": " ".join(sentences)}

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_start_campaign(self):
        """Start (or restart) the campaigns: enrolment and execution run from now on.
        Restarting a modified campaign from the form (after its confirmation)
        updates its participants first."""
        if any(not campaign.marketing_activity_ids for campaign in self):
            raise UserError(_("You must add at least one activity before starting a campaign."))
        self.marketing_activity_ids._check_split_weights()
        self._check_content_ready()
        self._take_responsibility()
        # the scheduler enrols at once the campaigns never enrolled since (see
        # marketing.scheduler._is_enrolment_due)
        self.with_context(**{STATE_CHANGE_KEY: STATE_CHANGE}).write(
            {"state": "running", "last_sync_date": False}
        )
        if self.env.context.get("marketing_automation_update_participants"):
            self.filtered("require_sync").action_update_participants()
        self.env["marketing.scheduler"]._wake()
        return True

    def _check_content_ready(self):
        """Start refuses what the execution would reject (the same
        ``marketing.activity._get_content_problem``): an empty, archived or
        retargeted mailing, a step on the record that cannot run."""
        for activity in self.marketing_activity_ids:
            if problem := activity._get_content_problem():
                raise UserError(
                    _(
                        "Campaign %(campaign)s cannot start: activity %(activity)s would not "
                        "run. %(problem)s",
                        campaign=activity.campaign_id.name,
                        activity=activity.name,
                        problem=problem,
                    )
                )

    def action_stop_campaign(self):
        """Stop enrolment and execution; scheduled traces wait for the next start."""
        self.with_context(**{STATE_CHANGE_KEY: STATE_CHANGE}).write({"state": "stopped"})
        return True

    def action_update_participants(self):
        """Apply workflow changes to the existing (non-test) participants.

        Running and completed participants get the traces of the root activities
        they do not have yet, and of the children whose parent trace is already
        processed (scheduled as if the parent had just run). Completed
        participants that receive new traces run again. Existing traces are left
        untouched. Returns a notification saying what was done.
        """
        self._take_responsibility()
        # sudo: the engine creates the traces, users never do (see marketing.trace)
        Trace = self.env["marketing.trace"].sudo()
        now = fields.Datetime.now()
        new_traces = Trace
        restarted = self.env["marketing.participant"]
        if self.ids:
            new_traces = Trace._schedule(self._get_update_rows(), now)
            restarted = new_traces.participant_id.filtered(lambda p: p.state == "completed")
            restarted.write({"state": "running"})
            # events that already happened on a parent's message apply to its new children
            for event in EVENTS:
                new_traces.parent_id._filter_event(event)._process_event(event, now)
        # and the scheduler enrols the new records at once
        self.write({"require_sync": False, "last_sync_date": False})
        self.env["marketing.scheduler"]._wake()
        if not new_traces:
            message = _("No participant needed a new step.")
        else:
            message = _(
                "%(participants)s participants got %(steps)s new steps.",
                participants=len(new_traces.participant_id),
                steps=len(new_traces),
            )
        if restarted:
            message = _(
                "%(message)s %(completed)s of them had completed the workflow: they run again.",
                message=message,
                completed=len(restarted),
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success" if new_traces else "info",
                "message": message,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    @api.readonly
    def get_update_summary(self):
        """What *Update* would do now, for its confirmation: how many
        participants get new steps, how many steps, and how many of these
        participants had completed the workflow and will run again."""
        self.check_access("read")
        summary = {"participants": 0, "steps": 0, "completed": 0}
        if self.ids:
            self.env.flush_all()
            self.env.cr.execute(
                SQL(
                    """
                    SELECT COUNT(DISTINCT rows.participant_id),
                           COUNT(*),
                           COUNT(DISTINCT rows.participant_id)
                               FILTER (WHERE participant.state = 'completed')
                      FROM (%(rows)s) AS rows(participant_id, activity_id, parent_id)
                      JOIN marketing_participant participant
                        ON participant.id = rows.participant_id
                    """,
                    rows=self._get_update_rows(),
                )
            )
            summary["participants"], summary["steps"], summary["completed"] = self.env.cr.fetchone()
        return summary

    def _get_update_rows(self):
        """The traces *Update* creates, as rows (participant, activity, parent
        trace) of its running or completed participants: the root traces they
        lack (``_missing_root_trace_rows``, as at enrolment), the children of
        their processed traces they lack, their unassigned split branches."""
        participants = SQL(
            """participant.campaign_id IN %s
               AND participant.is_test IS NOT TRUE
               AND participant.state IN ('running', 'completed')
               AND participant.goal_reached_date IS NULL""",
            tuple(self.ids),
        )
        return SQL(
            """
            %(roots)s
         UNION ALL
            SELECT participant.id, child.id, parent.id
              FROM marketing_participant participant
              JOIN marketing_trace parent ON parent.participant_id = participant.id
              JOIN marketing_activity child ON child.parent_id = parent.activity_id
              JOIN marketing_activity parent_activity
                ON parent_activity.id = parent.activity_id
             WHERE %(participants)s
               AND parent.state = 'processed'
               AND parent_activity.activity_type != 'split'
               AND NOT EXISTS (
                    SELECT 1 FROM marketing_trace trace
                     WHERE trace.parent_id = parent.id AND trace.activity_id = child.id)
         UNION ALL
            %(split_branches)s
            """,
            roots=self.env["marketing.participant"]._missing_root_trace_rows(participants),
            participants=participants,
            split_branches=self._get_unassigned_split_rows(participants),
        )

    def action_save_as_favorite_filter(self):
        """Open the new favorite filter, named after the campaign until the
        user names it: it is created when they save it."""
        self.ensure_one()
        if self.domain in (False, "", "[]"):
            raise UserError(_("Add at least one rule to the filter before saving it."))
        return {
            "type": "ir.actions.act_window",
            "name": _("Save as Favorite Filter"),
            "res_model": "marketing.favorite.filter",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_name": self.name,
                "default_model_id": self.model_id.id,
                "default_domain": self.domain,
                "default_company_id": self.company_id.id,
            },
        }

    def action_view_participants(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "marketing_automation_community.marketing_participant_action"
        )
        action["domain"] = [("campaign_id", "=", self.id), ("is_test", "=", False)]
        action["context"] = {"default_campaign_id": self.id}
        return action

    def action_view_mailings(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "marketing_automation_community.mailing_mailing_marketing_template_action"
        )
        action["domain"] = [("id", "in", self.marketing_activity_ids.mass_mailing_id.ids)]
        return action

    def action_view_link_clicks(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "marketing_automation_community.link_tracker_click_action"
        )
        action["domain"] = [("campaign_id", "=", self.id)]
        return action

    def action_view_error_traces(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "marketing_automation_community.marketing_trace_action"
        )
        action["domain"] = [
            ("campaign_id", "=", self.id),
            ("state", "=", "error"),
            ("is_test", "=", False),
        ]
        action["context"] = {}
        return action

    def action_view_test_participants(self):
        action = self.action_view_participants()
        action["domain"] = [("campaign_id", "=", self.id), ("is_test", "=", True)]
        return action

    # ------------------------------------------------------------
    # TOOLS
    # ------------------------------------------------------------

    def _get_filter_user(self):
        """A campaign's filters read the responsible's id, time zone and date."""
        return self.user_id or self.env.user

    @api.model
    def _get_allowed_target_models(self):
        """The models a campaign of the current user may target: stored business
        models that the user can read, with a chatter (mailing contacts, contacts,
        leads, registrations...), never technical or security ones."""
        models_ = self.env["ir.model"].search(
            [("is_mail_thread", "=", True), ("transient", "=", False)]
        )
        return models_.filtered(
            lambda m: (
                m.model in self.env
                and not m.model.startswith(DENIED_TARGET_PREFIXES)
                and not self.env[m.model]._abstract
                and self.env[m.model]._auto
                and self.env[m.model].has_access("read")
            )
        )

    @api.model
    def _get_offered_target_models(self):
        """The targets a campaign offers: the allowed models whose records
        can be reached (a stored email, phone or contact field), not the
        business models nobody writes to (calendar events, sales teams...).
        A campaign that already targets another allowed model keeps it."""
        return self._get_allowed_target_models().filtered(
            lambda m: self._is_reachable_model(self.env[m.model])
        )

    @api.model
    def _is_reachable_model(self, model):
        fields_ = model._fields
        names = [
            model._mail_get_primary_email_field(),
            *RECIPIENT_FIELDS,
            *model._phone_get_number_fields(),
        ]
        if any(name in fields_ and fields_[name].store for name in names if name):
            return True
        partner = fields_.get("partner_id")
        return bool(partner and partner.store and partner.comodel_name == "res.partner")

    def _get_target_records(self):
        """The target model with the rights of the user who runs the campaign
        (record rules), in the campaign's company only (not the companies active
        for the caller)."""
        self.ensure_one()
        return (
            self.env[self.model_name]
            .with_user(self._get_running_user())
            .with_context(
                allowed_company_ids=self.company_id.ids, active_test=not self.include_archived
            )
        )

    def _check_engine_caller(self):
        """Enrolment and execution run with the responsible's rights: a user
        runs them on the user's own campaigns only, unless an administrator
        (Marketing Automation or Settings); the scheduler runs them all."""
        self.check_access("write")
        user = self.env.user
        if (
            self.env.su
            or user._is_superuser()
            or user.has_group(MANAGER_GROUP)
            or user.has_group("base.group_system")
        ):
            return
        if others := self.filtered(lambda c: c.user_id != user):
            raise AccessError(
                _(
                    "Campaign %(campaign)s runs with the rights of its responsible "
                    "%(user)s: only that user or a Marketing Automation administrator can "
                    "enrol its participants or run its activities.",
                    campaign=others[0].name,
                    user=others[0].user_id.name,
                )
            )

    def _get_responsible(self):
        """The responsible, whose rights enrol the participants and run the
        activities under the scheduler; never the superuser."""
        self.ensure_one()
        user = self.user_id
        if user._is_superuser() or not self._is_responsible_user(user):
            raise UserError(
                _(
                    "Campaign %(campaign)s has no valid responsible: choose an active "
                    "Marketing Automation user, whose rights the campaign uses.",
                    campaign=self.name,
                )
            )
        return user

    def _get_running_user(self):
        """Who runs the campaign now: the current user who clicked (Run on a
        trace of a test), the responsible when the caller is the superuser
        (the scheduler, data files, code in sudo)."""
        self.ensure_one()
        if self.env.su or self.env.user._is_superuser():
            return self._get_responsible()
        return self.env.user

    def _with_running_user(self, user=None):
        """This campaign run by ``user`` (by default its responsible) in its
        company: the environment in which the engine enrols and executes."""
        self.ensure_one()
        user = self._check_running_user(user)
        return self.with_user(user).with_context(allowed_company_ids=self.company_id.ids)

    def _check_running_user(self, user=None):
        """Raise when ``user`` (by default the responsible) cannot run the
        campaign; return the user."""
        self.ensure_one()
        user = user or self._get_responsible()
        if self.company_id not in user.company_ids:
            raise UserError(
                _(
                    "%(user)s cannot run campaign %(campaign)s: this user does not belong to its "
                    "company %(company)s.",
                    user=user.name,
                    campaign=self.name,
                    company=self.company_id.name,
                )
            )
        return user

    def _get_applied_domain(self):
        self.ensure_one()
        return self._parse_domain(self.domain)

    def _flag_workflow_modified(self):
        """A workflow change on campaigns that have participants waits for an update."""
        with_participants = {
            campaign.id
            for [campaign] in self.env["marketing.participant"]._read_group(
                [("campaign_id", "in", self.ids), ("is_test", "=", False)], ["campaign_id"]
            )
        }
        self.filtered(
            lambda c: c.id in with_participants and not c.require_sync
        ).require_sync = True

    # ------------------------------------------------------------
    # ENGINE
    # ------------------------------------------------------------

    def sync_participants(self):
        """Enrol new matching records and unlink participants whose record is gone,
        with the rights of each campaign's responsible.

        Set-based: one INSERT ... SELECT per campaign creates the participants
        (deduplicated on the unicity field, honouring the responsible's record
        rules and *Include archived*), one more creates their root traces.
        """
        self._check_engine_caller()
        now = fields.Datetime.now()
        for campaign in self.filtered(lambda c: c.marketing_activity_ids):
            campaign = campaign._with_running_user()
            campaign._unlink_gone_participants()
            campaign._reach_goal(now)
            campaign._enrol_new_participants(now)
            # the waiting steps relative to a date of the record follow its changes
            self.env["marketing.trace"]._redate_record_dates(campaign)
            # sudo: the date of the last enrolment is the engine's (see write)
            campaign.sudo().last_sync_date = now
        return True

    def _unlink_gone_participants(self):
        self.ensure_one()
        Participant = self.env["marketing.participant"]
        target = self.env[self.model_name]
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                SELECT participant.id
                  FROM marketing_participant participant
             LEFT JOIN %(table)s target ON target.id = participant.res_id
                 WHERE participant.campaign_id = %(campaign_id)s
                   AND participant.state != 'unlinked'
                   AND target.id IS NULL
                """,
                table=SQL.identifier(target._table),
                campaign_id=self.id,
            )
        )
        gone = Participant.browse(row[0] for row in self.env.cr.fetchall())
        if gone:
            gone._mark_unlinked()

    def _enrol_new_participants(self, now):
        self.ensure_one()
        records = self._get_target_records()
        query = records._search(self._get_applied_domain())
        if query.is_empty():
            return []
        field = records._fields.get(self.unique_field_id.name or "id")
        if self.unique_field_id and field.store and field.column_type:
            # the ORM's SQL of the field: a translated field reads its value in the
            # responsible's language
            value_sql = SQL(
                "NULLIF(lower(btrim(%s::text, E' \\t\\n\\r')), '')",
                records._field_to_sql(query.table, field.name, query),
            )
        else:
            value_sql = SQL("NULL::text")
        self.env.flush_all()
        # One participant per new record; DISTINCT ON keeps the oldest record of
        # a unicity value (a record without value is its own group: its id must
        # not mix with values such as a many2one id), the unique indexes guard
        # against concurrent runs.
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO marketing_participant (
                    campaign_id, company_id, model_name, res_id, unique_key, state, is_test,
                    start_date, create_uid, create_date, write_uid, write_date)
                SELECT %(campaign_id)s, %(company_id)s, %(model_name)s, res_id, unique_value,
                       'running', FALSE, %(now)s, %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM (
                        SELECT DISTINCT ON (target.unique_value, target.own_group)
                               target.res_id, target.unique_value
                          FROM %(target_query)s target
                         WHERE NOT EXISTS (
                                SELECT 1 FROM marketing_participant existing
                                 WHERE existing.campaign_id = %(campaign_id)s
                                   AND existing.is_test IS NOT TRUE
                                   AND (existing.res_id = target.res_id
                                        OR existing.unique_key = target.unique_value))
                      ORDER BY target.unique_value, target.own_group, target.res_id
                       ) new_participant
                    ON CONFLICT DO NOTHING
             RETURNING id
                """,
                campaign_id=self.id,
                company_id=self.company_id.id,
                model_name=self.model_name,
                now=now,
                uid=self.env.uid,
                target_query=query.subselect(
                    SQL("%s AS res_id", SQL.identifier(query.table, "id")),
                    SQL("%s AS unique_value", value_sql),
                    SQL(
                        "CASE WHEN %s IS NULL THEN %s END AS own_group",
                        value_sql,
                        SQL.identifier(query.table, "id"),
                    ),
                ),
            )
        )
        participant_ids = [row[0] for row in self.env.cr.fetchall()]
        if participant_ids:
            # the participants were inserted in SQL: the cached participants and
            # counts of the campaign are stale
            self.invalidate_recordset()
            self.env["marketing.participant"].browse(participant_ids)._create_root_traces(now)
        return participant_ids

    def execute_activities(self):
        """Run every due trace of the campaigns, batch after batch, with the
        rights of the user who runs each: the caller, or the responsible when
        the caller is the superuser."""
        self._check_engine_caller()
        users = {}
        for campaign in self:
            campaign._check_running_user()
            users[campaign.id] = campaign._get_running_user()
        Scheduler = self.env["marketing.scheduler"]
        Scheduler._expire(self)
        return Scheduler._execute(Scheduler._get_activities(self), users)

    @api.model
    def _cron_process_campaigns(self):
        """The entry of the scheduler jobs (data/ir_cron_data.xml): see
        ``marketing.scheduler._run``."""
        self.env["marketing.scheduler"]._run()

    def _claim_for_enrolment(self):
        """Lock the campaign's row for this transaction, unless another worker
        holds it (it is enrolling this campaign): two workers never enrol the
        same campaign at once, nor write its row."""
        self.ensure_one()
        self.flush_recordset()
        self.env.cr.execute(
            SQL(
                "SELECT id FROM marketing_campaign WHERE id = %s FOR NO KEY UPDATE SKIP LOCKED",
                self.id,
            ),
            # a conflict with another worker is expected and handled by the caller
            log_exceptions=False,
        )
        return bool(self.env.cr.fetchone())

    @api.model
    def _get_scheduler_error_message(self, error):
        if isinstance(error, UserError | ValidationError):
            return error.args[0]
        _logger.error("Marketing Automation: unexpected scheduler error", exc_info=error)
        return _(
            "The scheduler failed on this campaign (%(error)s). Check its filter, its "
            "responsible and its activities; the server log has the details.",
            error=type(error).__name__,
        )

    def _set_scheduler_error(self, message):
        """Show (or clear) the scheduler's error on the campaign; log it once
        per change, not on every run."""
        for campaign in self.filtered(lambda c: (c.scheduler_error or False) != message):
            if message:
                _logger.warning("Marketing campaign %s: %s", campaign.id, message)
            campaign.scheduler_error = message

    # ------------------------------------------------------------
    # WORKFLOW EDITOR
    # ------------------------------------------------------------

    @api.model
    def _pop_unsaved_activity_tree(self, vals):
        """Take out of ``vals`` the create commands of activities when one of
        them names a new activity as parent; return them. The workflow editor
        saves a tree built before anything was saved: a new activity may name
        as parent another new activity of the same save, by the client's
        reference of its create command (``virtual_…``)."""
        commands = vals.get("marketing_activity_ids")
        if not isinstance(commands, list):
            return []
        creates = [
            command
            for command in commands
            if isinstance(command, (list, tuple)) and command[0] == fields.Command.CREATE
        ]
        if not any(isinstance(command[2].get("parent_id"), str) for command in creates):
            return []
        vals["marketing_activity_ids"] = [
            command for command in commands if not any(command is c for c in creates)
        ]
        return creates

    def _create_unsaved_activity_tree(self, commands):
        """Create the activities of ``commands`` parents first, in their order."""
        self.ensure_one()
        created = {}
        pending = list(commands)
        while pending:
            ready = [
                command
                for command in pending
                if not isinstance(command[2].get("parent_id"), str)
                or command[2]["parent_id"] in created
            ]
            if not ready:
                raise ValidationError(
                    self.env._("The parent of a new activity is not part of the campaign.")
                )
            activities = self.env["marketing.activity"].create(
                [
                    dict(
                        command[2],
                        campaign_id=self.id,
                        parent_id=created.get(command[2].get("parent_id"))
                        or command[2].get("parent_id"),
                    )
                    for command in ready
                ]
            )
            for command, activity in zip(ready, activities, strict=True):
                created[command[1]] = activity.id
            pending = [command for command in pending if not any(command is c for c in ready)]

    METRICS_DAYS = 15

    @api.readonly
    def get_workflow_metrics(self):
        """The figures of the workflow editor's blocks, by activity id: those
        of ``marketing.activity._read_statistics()`` (which the activities'
        own statistics read too), a ratio of the sent messages per event, and
        the daily series of processed and rejected traces of real
        participants, over the days of the user's time zone, the last
        ``METRICS_DAYS`` up to today. An A/B split's figures add its branches
        side by side (``split_results``: ``marketing.activity.get_split_results()``)
        and whether they are compared on the goal (``split_on_goal``).
        """
        self.ensure_one()
        self.check_access("read")
        tz = pytz.timezone(self.env.context.get("tz") or "UTC")
        today = pytz.utc.localize(fields.Datetime.now()).astimezone(tz).date()
        days = [today - timedelta(days=offset) for offset in range(self.METRICS_DAYS - 1, -1, -1)]
        first_day_start = (
            tz.localize(datetime.combine(days[0], time.min))
            .astimezone(pytz.utc)
            .replace(tzinfo=None)
        )
        metrics = self.marketing_activity_ids._read_statistics()
        for activity_metrics in metrics.values():
            activity_metrics["series"] = {
                "days": [fields.Date.to_string(day) for day in days],
                "processed": [0] * len(days),
                "rejected": [0] * len(days),
            }
            sent = activity_metrics["sent"]
            for event in EVENTS:
                activity_metrics[f"{event}_ratio"] = (
                    round(100.0 * activity_metrics[event] / sent, 1) if sent else 0.0
                )
        day_index = {day: index for index, day in enumerate(days)}
        for activity, state, day, count in self.env["marketing.trace"]._read_group(
            [
                ("campaign_id", "=", self.id),
                ("is_test", "=", False),
                ("state", "in", ("processed", "rejected")),
                ("schedule_date", ">=", first_day_start),
            ],
            ["activity_id", "state", "schedule_date:day"],
            ["__count"],
        ):
            day = day.date() if isinstance(day, datetime) else day
            if day in day_index:
                metrics[activity.id]["series"][state][day_index[day]] += count
        has_goal = self._has_goal()
        for split in self.marketing_activity_ids.filtered(lambda a: a.activity_type == "split"):
            metrics[split.id]["split_results"] = split.get_split_results()
            metrics[split.id]["split_on_goal"] = has_goal
        return metrics

    # ------------------------------------------------------------
    # GOAL AND A/B SPLITS
    # ------------------------------------------------------------

    def _reach_goal(self, now, condition=None):
        """The running participants (matching ``condition``, SQL on the alias
        ``participant``) whose record matches the goal reach it: they are
        completed and their scheduled traces canceled with the reason, in one
        statement whatever their number. The goal is searched with the rights
        of the user who runs the campaign. Return the participants."""
        self.ensure_one()
        Participant = self.env["marketing.participant"]
        if not self._has_goal():
            return Participant
        query = self._get_target_records()._search(self._parse_domain(self.goal_domain))
        if query.is_empty():
            return Participant
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """
                WITH reached AS (
                    UPDATE marketing_participant participant
                       SET state = 'completed',
                           goal_reached_date = COALESCE(participant.goal_reached_date, %(now)s),
                           write_uid = %(uid)s, write_date = %(now)s
                     WHERE participant.campaign_id = %(campaign_id)s
                       AND participant.state = 'running'
                       AND %(condition)s
                       AND participant.res_id IN %(goal)s
                 RETURNING participant.id
                ), canceled AS (
                    UPDATE marketing_trace trace
                       SET state = 'canceled', state_msg = %(reason)s, schedule_date = %(now)s,
                           write_uid = %(uid)s, write_date = %(now)s
                     WHERE trace.participant_id IN (SELECT id FROM reached)
                       AND trace.state = 'scheduled'
                )
                SELECT id FROM reached
                """,
                now=now,
                uid=self.env.uid,
                campaign_id=self.id,
                condition=SQL("TRUE") if condition is None else condition,
                goal=query.subselect(),
                reason=self.env["marketing.trace"]._reason_sql(_lt("Goal reached")),
            )
        )
        reached = Participant.browse(row[0] for row in rows)
        if reached:
            Trace = self.env["marketing.trace"]
            reached.invalidate_recordset(["state", "goal_reached_date", "write_uid", "write_date"])
            Trace.invalidate_model(["state", "state_msg", "schedule_date"])
            invalidate_dependents(Participant, ["state", "goal_reached_date"])
            invalidate_dependents(Trace, ["state", "state_msg", "schedule_date"])
        return reached

    def _has_goal(self):
        """Whether the campaign has a goal (the domain editor writes an empty
        goal as ``[]``, which is no goal, not "every record")."""
        self.ensure_one()
        return (self.goal_domain or "").strip() not in ("", "[]")

    def _get_unassigned_split_rows(self, participants):
        """SQL: for *Update*, the branch of the ``participants`` (SQL condition)
        whose split trace ran without sending them down any branch (the split
        had none then); those already in a branch stay there."""
        return self.env["marketing.activity"]._split_branch_rows(
            SQL(
                """
                %s
                AND trace.state = 'processed'
                AND NOT EXISTS (SELECT 1 FROM marketing_trace branch_trace
                                 WHERE branch_trace.parent_id = trace.id)
                """,
                participants,
            )
        )
