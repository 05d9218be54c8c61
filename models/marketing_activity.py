import logging
import math
from collections import defaultdict
from datetime import timedelta

from lxml import etree
from markupsafe import Markup

from odoo import Command, _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL, formatLang, plaintext2html
from odoo.tools.translate import LazyTranslate

from ..tools.campaign_batch import CAMPAIGN_BATCH_KEY, CampaignBatch
from ..tools.content import is_mail_body_empty
from ..tools.split_stats import MIN_SPLIT_PARTICIPANTS, two_proportion_p_value
from ..tools.timing import has_window, next_opening
from ..tools.triggers import (
    ACTIVITY_TYPE_ICONS,
    DEFAULT_ACTIVITY_TYPE_ICON,
    EVENTS,
    SENT_STATUSES,
    TRIGGER_SELECTION,
    TRIGGERS,
)
from .marketing_trace import FREQUENCY_CAPS, PARTICIPANT_STATE_COLORS, STATE_COLORS

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

INTERVAL_TYPES = [("hours", "Hours"), ("days", "Days"), ("weeks", "Weeks"), ("months", "Months")]
# delays and expiries stay within ten years: dates beyond that would be
# unreadable and overflow PostgreSQL's intervals
MAX_INTERVALS = {"hours": 87_600, "days": 3_650, "weeks": 520, "months": 120}
# a workflow stays readable, and its filters cheap to join
MAX_WORKFLOW_DEPTH = 50
MAX_CAMPAIGN_ACTIVITIES = 500
MANAGER_GROUP = "marketing_automation_community.group_marketing_automation_manager"
# the activity types that change the record itself, through the ORM
RECORD_STEP_TYPES = ("tag", "mailing_list", "plan_activity", "note", "set_field")
LIST_OPERATIONS = [("add", "Add"), ("remove", "Remove")]
# what "Update a Field" may set: plain stored fields of the target, never the
# technical ones that decide who owns or sees the record
SET_FIELD_TYPES = ("char", "text", "integer", "float", "boolean", "selection", "date", "many2one")
SET_FIELD_FORBIDDEN = frozenset(
    {
        *models.MAGIC_COLUMNS,
        "display_name",
        "active",
        "company_id",
        "parent_path",
        "sequence",
        "message_main_attachment_id",
        "email_normalized",
        "phone_sanitized",
    }
)
# the models a link set by "Update a Field" may point to: never security or technical ones
SET_FIELD_FORBIDDEN_RELATIONS = ("res.groups", "res.company", "res.users.apikeys")
MAX_SUMMARY_LENGTH = 200
MAX_NOTE_LENGTH = 10_000
MAX_FIELD_VALUE_LENGTH = 1_000
MAX_STEP_TAGS = 20
# the type of mailing (mailing.mailing.mailing_type) that each sending activity type sends
MAILING_TYPES = {"email": "mail", "sms": "sms"}
ACTIVITY_TYPES_BY_MAILING_TYPE = {mailing: activity for activity, mailing in MAILING_TYPES.items()}


class MarketingActivity(models.Model):
    """One step of a campaign's workflow: an email, an SMS or a server action,
    run for each participant after a delay counted from its trigger (the
    participant's entry, the parent activity, or an event on the parent's
    message)."""

    _name = "marketing.activity"
    _description = "Marketing Automation Activity"
    _inherit = ["marketing.filter.mixin"]
    _order = "sequence, interval_standardized, id"
    _check_company_auto = True

    name = fields.Char("Activity Name", required=True)
    sequence = fields.Integer(default=10)
    campaign_id = fields.Many2one(
        "marketing.campaign", required=True, ondelete="cascade", index=True, check_company=True
    )
    company_id = fields.Many2one(related="campaign_id.company_id", store=True, index=True)
    model_id = fields.Many2one(related="campaign_id.model_id", string="Target")
    model_name = fields.Char(related="campaign_id.model_name", string="Target Model")
    utm_campaign_id = fields.Many2one(related="campaign_id.utm_campaign_id")
    activity_type = fields.Selection(
        [
            ("email", "Email"),
            ("sms", "SMS"),
            ("action", "Server Action"),
            ("split", "A/B split"),
            ("tag", "Tag"),
            ("mailing_list", "Mailing List"),
            ("plan_activity", "Plan an Activity"),
            ("note", "Log a Note"),
            ("set_field", "Update a Field"),
        ],
        required=True,
        default="email",
        help="What the activity does for each participant: send an email or an SMS, run a "
        "server action, split the participants between branches, or change the record: tag "
        "it, add it to a mailing list or remove it, plan an activity, log a note, update "
        "one of its fields.",
    )
    mass_mailing_id = fields.Many2one(
        "mailing.mailing",
        string="Template",
        ondelete="restrict",
        index="btree_not_null",
        domain="[('use_in_marketing_automation', '=', True), "
        "('mailing_type', '=', mass_mailing_id_mailing_type), "
        "('mailing_model_name', '=', model_name), "
        "'|', ('marketing_activity_ids', '=', False), "
        "('marketing_activity_ids.campaign_id', '=', campaign_id)]",
        help="A campaign template: one of this campaign's, or one that no campaign uses.",
    )
    mass_mailing_id_mailing_type = fields.Selection(
        [("mail", "Email"), ("sms", "SMS")],
        string="Template Type",
        compute="_compute_mass_mailing_id_mailing_type",
    )
    sms_body = fields.Text(
        "SMS Text",
        compute="_compute_sms_body",
        inverse="_inverse_sms_body",
        help="The text of the SMS: it is the text of the activity's SMS template, created "
        "from it when the activity has none.",
    )
    server_action_id = fields.Many2one(
        "ir.actions.server",
        ondelete="restrict",
        domain="[('model_id', '=', model_id), ('usage', '=', 'ir_actions_server'), "
        "('binding_model_id', '=', False)]",
        help="The action run on each participant's record, picked among the server actions "
        "of the target: Settings administrators create them (Settings > Technical > "
        "Actions > Server Actions). Actions of Odoo's Action menu (such as Download (vCard)) "
        "are not offered.",
    )
    run_once_per_batch = fields.Boolean(
        "Run on several records at once",
        help="Run the server action once for a group of participants processed together, "
        "with all their records in `records`, instead of once per record. Faster for actions "
        "written for several records (an action with code must use `records`, as `record` is "
        "not set); if the group fails, it is run again record by record so that only the "
        "faulty records end in error.",
    )
    # steps on the record, run through the ORM with the rights of the campaign's user
    tag_operation = fields.Selection(LIST_OPERATIONS, default="add", required=True)
    tag_ids = fields.Many2many(
        "res.partner.category",
        "marketing_activity_partner_category_rel",
        string="Tags",
        help="The contact tags added to (or removed from) the record: for targets tagged with "
        "contact tags, such as contacts and mailing contacts.",
    )
    mailing_list_operation = fields.Selection(
        LIST_OPERATIONS, string="List Operation", default="add", required=True
    )
    mailing_list_id = fields.Many2one(
        "mailing.list",
        ondelete="restrict",
        index="btree_not_null",
        help="The list the mailing contact is added to (or removed from). A contact who "
        "opted out of the list stays opted out.",
    )
    plan_activity_type_id = fields.Many2one(
        "mail.activity.type",
        string="Planned Activity Type",
        ondelete="restrict",
        domain="['|', ('res_model', '=', False), ('res_model', '=', model_name)]",
    )
    plan_summary = fields.Char("Summary", size=MAX_SUMMARY_LENGTH)
    plan_deadline_days = fields.Integer(
        "Due in (days)", default=0, help="The deadline, in days after the step runs."
    )
    plan_user_type = fields.Selection(
        [("user", "A user"), ("salesperson", "The record's salesperson")],
        string="Assigned to",
        default="user",
        required=True,
        help="The user the activity is planned for: one user, or the salesperson of each "
        "record (its field Salesperson; the campaign's responsible when it has none).",
    )
    plan_user_id = fields.Many2one(
        "res.users",
        string="Assigned User",
        ondelete="set null",
        domain="[('share', '=', False)]",
    )
    note_body = fields.Text(
        "Note",
        help="Plain text logged as a note on the record (no template code: the text is "
        "logged as it is written).",
    )
    set_field_id = fields.Many2one(
        "ir.model.fields",
        string="Field to Update",
        ondelete="set null",
        domain="[('model_id', '=', model_id), ('store', '=', True), ('readonly', '=', False), "
        f"('related', '=', False), ('ttype', 'in', {SET_FIELD_TYPES!r}), "
        f"('name', 'not in', {sorted(SET_FIELD_FORBIDDEN)!r})]",
        help="A plain field of the record: text, number, yes/no, choice, date or a link to "
        "another record. Computed, related and technical fields cannot be set.",
    )
    set_field_type = fields.Selection(related="set_field_id.ttype", string="Field Type")
    set_field_relation = fields.Char(related="set_field_id.relation", string="Field Model")
    set_field_value = fields.Char(
        "New Value",
        size=MAX_FIELD_VALUE_LENGTH,
        help="The value written: a text, a number, or for a choice its value or label (e.g. High).",
    )
    set_field_boolean = fields.Boolean("New Value (Yes/No)")
    set_field_date = fields.Date("New Date")
    set_field_res_id = fields.Many2oneReference("New Record", model_field="set_field_relation")
    set_field_choices = fields.Char("Choices", compute="_compute_set_field_choices")
    # A/B split: the children of a split are its branches
    split_weight = fields.Integer(
        "Share (%)",
        default=0,
        help="For a branch of an A/B split: the percentage of the participants reaching the "
        "split that go down this branch. The shares of a split's branches sum to 100.",
    )
    split_promoted = fields.Boolean(
        "Promoted",
        copy=False,
        readonly=True,
        help="For a branch of an A/B split: every participant reaching the split from now on "
        "goes down this branch (those already in another branch stay there).",
    )
    is_split_branch = fields.Boolean(compute="_compute_is_split_branch")
    split_results_html = fields.Html(
        "Branch Results", compute="_compute_split_results_html", sanitize=False
    )
    # trigger
    interval_number = fields.Integer("Send after", default=1, required=True)
    interval_type = fields.Selection(
        INTERVAL_TYPES, string="Delay Type", default="hours", required=True
    )
    interval_standardized = fields.Integer(
        "Delay in Hours",
        compute="_compute_interval_standardized",
        store=True,
        readonly=True,
    )
    trigger_type = fields.Selection(
        TRIGGER_SELECTION, string="Trigger", default="begin", required=True, index=True
    )
    trigger_label = fields.Char(compute="_compute_trigger_label")
    parent_id = fields.Many2one(
        "marketing.activity",
        string="Parent Activity",
        ondelete="cascade",
        index="btree_not_null",
        check_company=True,
        domain="[('campaign_id', '=', campaign_id), ('id', '!=', id)]",
        help="The activity whose execution (or whose message's event) triggers this one.",
    )
    child_ids = fields.One2many("marketing.activity", "parent_id", string="Child Activities")
    # filter and expiry
    domain = fields.Char(
        "Activity Filter",
        help="Participants whose record does not match this filter when the activity runs "
        "are rejected, for this activity and all its children.",
    )
    favorite_filter_id = fields.Many2one(
        help="Load a saved filter into the filter of the activity.",
    )
    applied_domain = fields.Char(
        "Applied Filter",
        compute="_compute_applied_domain",
        recursive=True,
        help="The campaign filter and the filters of this activity and its ancestors.",
    )
    validity_duration = fields.Boolean(
        "Expires",
        help="Cancel the activity for a participant when it could not run in time.",
    )
    validity_duration_number = fields.Integer("Cancel after", default=0)
    validity_duration_type = fields.Selection(
        INTERVAL_TYPES, string="Expiry Duration Type", default="hours", required=True
    )
    # timing: send window on the recipient's wall clock, date of the record
    send_hour_from = fields.Float(
        "Send from",
        default=0.0,
        help="Hour from which the activity runs, on the recipient's wall clock (0-24; "
        "both hours at 0: any time).",
    )
    send_hour_to = fields.Float(
        "Send until",
        default=0.0,
        help="Hour until which the activity runs, on the recipient's wall clock (0-24; "
        "earlier than the start hour: overnight).",
    )
    send_weekdays_only = fields.Boolean(
        "Weekdays only",
        help="Run Monday to Friday only, on the recipient's wall clock. The day is the one "
        "the window opens: an overnight window from 22:00 to 6:00 runs from Monday evening "
        "to Saturday morning. A step due outside the window runs when it next opens.",
    )
    send_window_label = fields.Char("Send Window", compute="_compute_send_window_label")
    date_field_id = fields.Many2one(
        "ir.model.fields",
        ondelete="set null",
        domain="[('model_id', '=', model_id), ('store', '=', True), "
        "('ttype', 'in', ('date', 'datetime'))]",
        help="The date of the record the delay counts from (a date counts from its "
        "midnight in the recipient's time zone).",
    )
    date_offset = fields.Selection(
        [("before", "Before"), ("after", "After")],
        string="Before or After",
        default="before",
        required=True,
    )
    # traces and statistics
    trace_ids = fields.One2many("marketing.trace", "activity_id", string="Traces")
    processed = fields.Integer("Success", compute="_compute_statistics")
    rejected = fields.Integer(compute="_compute_statistics")
    failed = fields.Integer(
        compute="_compute_statistics",
        help="Traces that failed: an error while running, or a message the mail or SMS queue "
        "could not deliver.",
    )
    total_sent = fields.Integer("Sent", compute="_compute_statistics")
    total_open = fields.Integer("Opened", compute="_compute_statistics")
    total_reply = fields.Integer("Replied", compute="_compute_statistics")
    total_click = fields.Integer("Clicked", compute="_compute_statistics")
    total_bounce = fields.Integer("Bounced", compute="_compute_statistics")

    _sql_constraints = [
        (
            "interval_number_positive",
            "CHECK(interval_number >= 0)",
            "The delay of an activity cannot be negative.",
        ),
        (
            "validity_duration_number_positive",
            "CHECK(validity_duration_number >= 0)",
            "The expiry duration of an activity cannot be negative.",
        ),
    ]

    @api.depends("activity_type")
    def _compute_mass_mailing_id_mailing_type(self):
        for activity in self:
            activity.mass_mailing_id_mailing_type = MAILING_TYPES.get(activity.activity_type)

    @api.depends("activity_type", "mass_mailing_id.body_plaintext")
    def _compute_sms_body(self):
        for activity in self:
            activity.sms_body = (
                activity.mass_mailing_id.body_plaintext
                if activity.activity_type == "sms"
                else False
            )

    def _inverse_sms_body(self):
        for activity in self.filtered(lambda a: a.activity_type == "sms" and a.mass_mailing_id):
            if activity.mass_mailing_id.body_plaintext != activity.sms_body:
                activity.mass_mailing_id.body_plaintext = activity.sms_body

    @api.depends("interval_number", "interval_type")
    def _compute_interval_standardized(self):
        factors = {"hours": 1, "days": 24, "weeks": 168, "months": 720}
        for activity in self:
            activity.interval_standardized = activity.interval_number * factors.get(
                activity.interval_type, 1
            )

    @api.depends(
        "interval_number",
        "interval_type",
        "trigger_type",
        "date_offset",
        "date_field_id",
        "send_hour_from",
        "send_hour_to",
        "send_weekdays_only",
        "activity_type",
    )
    def _compute_trigger_label(self):
        vocabulary = self._get_workflow_vocabulary()
        for activity in self:
            label = self._format_trigger_label(
                vocabulary,
                activity.trigger_type,
                activity.interval_number,
                activity.interval_type,
            )
            if activity.trigger_type == "date":
                label = activity._get_date_trigger_label(label)
            if window := activity._get_send_window_label(short=True):
                label = f"{label} · {window}"
            activity.trigger_label = label

    @api.depends("send_hour_from", "send_hour_to", "send_weekdays_only", "activity_type")
    def _compute_send_window_label(self):
        for activity in self:
            activity.send_window_label = activity._get_send_window_label() or _("Any time")

    @api.depends("domain", "parent_id.applied_domain", "campaign_id.domain")
    def _compute_applied_domain(self):
        for activity in self:
            if not activity.campaign_id.model_name:
                activity.applied_domain = activity.domain
                continue
            try:
                activity.applied_domain = repr(activity._get_applied_domain())
            except ValidationError:
                # a filter written for another target, while the campaign's form changes
                # it: shown as it is, refused when saved (_check_domain)
                activity.applied_domain = activity.domain

    @api.depends("trace_ids.state")
    def _compute_statistics(self):
        statistics = self._read_statistics()
        for activity in self:
            stats = statistics[activity.id]
            activity.processed = stats["processed"]
            activity.rejected = stats["rejected"]
            activity.failed = stats["error"]
            activity.total_sent = stats["sent"]
            activity.total_open = stats["open"]
            activity.total_reply = stats["reply"]
            activity.total_click = stats["click"]
            activity.total_bounce = stats["bounce"]

    @api.depends("parent_id.activity_type", "trigger_type")
    def _compute_is_split_branch(self):
        for activity in self:
            activity.is_split_branch = activity._is_split_branch()

    @api.depends("activity_type", "child_ids")
    @api.depends_context("uid")
    def _compute_split_results_html(self):
        for activity in self:
            activity.split_results_html = (
                activity._render_split_results()
                if activity.activity_type == "split" and activity.id
                else False
            )

    @api.depends("set_field_id")
    def _compute_set_field_choices(self):
        for activity in self:
            field = activity._get_set_field()
            activity.set_field_choices = (
                ", ".join(
                    f"{label} ({key})" for key, label in field._description_selection(self.env)
                )
                if field and field.type == "selection"
                else False
            )

    @api.constrains(
        "interval_number", "interval_type", "validity_duration_number", "validity_duration_type"
    )
    def _check_durations(self):
        for activity in self:
            for kind in ("interval", "validity_duration"):
                number, unit = activity[f"{kind}_number"], activity[f"{kind}_type"]
                if not 0 <= number <= MAX_INTERVALS[unit]:
                    activity._raise_duration_error(activity.name, kind, unit)

    @api.model
    def _check_not_negative(self, vals, activity=None):
        """The database refuses a negative delay or expiry without saying of
        which activity: refuse it first, as ``_check_durations`` words it."""
        for kind in ("interval", "validity_duration"):
            if (vals.get(f"{kind}_number") or 0) < 0:
                unit = vals.get(f"{kind}_type") or (activity and activity[f"{kind}_type"])
                self._raise_duration_error(
                    vals.get("name") or (activity and activity.name) or "", kind, unit or "hours"
                )

    @api.model
    def _raise_duration_error(self, name, kind, unit):
        type_labels = dict(self._fields["interval_type"]._description_selection(self.env))
        values = {"activity": name, "max": MAX_INTERVALS[unit], "unit": type_labels[unit]}
        if kind == "interval":
            raise ValidationError(
                _(
                    "The delay of activity %(activity)s must be between 0 and %(max)s "
                    "%(unit)s (ten years).",
                    **values,
                )
            )
        raise ValidationError(
            _(
                "The expiry of activity %(activity)s must be between 0 and %(max)s "
                "%(unit)s (ten years).",
                **values,
            )
        )

    @api.constrains("send_hour_from", "send_hour_to")
    def _check_send_window(self):
        for activity in self:
            hours = (activity.send_hour_from, activity.send_hour_to)
            if not all(0 <= hour <= 24 for hour in hours):
                raise ValidationError(
                    _(
                        "The send window of activity %(activity)s must be between the hours "
                        "0 and 24.",
                        activity=activity.name,
                    )
                )
            if hours[0] == hours[1] and hours[0]:
                raise ValidationError(
                    _(
                        "The send window of activity %(activity)s is empty: give two "
                        "different hours, or 0 and 0 to send at any time.",
                        activity=activity.name,
                    )
                )

    @api.constrains("trigger_type", "date_field_id", "campaign_id")
    def _check_date_field(self):
        """A date trigger counts from a stored date or datetime field of the
        target that the user may read."""
        for activity in self.filtered(lambda a: a.trigger_type == "date"):
            field = activity.date_field_id
            if not field:
                raise ValidationError(
                    _(
                        "Activity %(activity)s runs relative to a date of the record: choose "
                        "the date field.",
                        activity=activity.name,
                    )
                )
            Target = self.env[activity.campaign_id.model_name]
            target_field = Target._fields.get(field.name)
            if (
                field.model != Target._name
                or not target_field
                or not target_field.store
                or target_field.type not in ("date", "datetime")
                or not (self.env.su or target_field.is_accessible(self.env))
            ):
                raise ValidationError(
                    _(
                        "Activity %(activity)s must count from a date or date and time field "
                        "of %(model)s that you can read.",
                        activity=activity.name,
                        model=activity.campaign_id.model_id.name,
                    )
                )

    @api.constrains("trigger_type", "parent_id", "campaign_id", "activity_type")
    def _check_trigger_parent(self):
        trigger_labels = dict(self._fields["trigger_type"]._description_selection(self.env))
        for child in self.child_ids:
            parent_type = TRIGGERS[child.trigger_type].parent_type
            if parent_type and child.parent_id.activity_type != parent_type:
                raise ValidationError(
                    _(
                        "Activity %(parent)s cannot become of type %(type)s: its child "
                        "%(child)s is triggered by “%(trigger)s”. Change the child first.",
                        parent=child.parent_id.name,
                        type=dict(self._fields["activity_type"]._description_selection(self.env))[
                            child.parent_id.activity_type
                        ],
                        child=child.name,
                        trigger=trigger_labels[child.trigger_type],
                    )
                )
        for activity in self:
            trigger = trigger_labels[activity.trigger_type]
            parent = activity.parent_id
            is_root = TRIGGERS[activity.trigger_type].root
            if is_root and parent:
                raise ValidationError(
                    _(
                        "Activity %(activity)s starts at the beginning of the workflow: "
                        "it cannot have a parent activity.",
                        activity=activity.name,
                    )
                )
            if not is_root and not parent:
                raise ValidationError(
                    _(
                        "Activity %(activity)s is triggered by “%(trigger)s”: "
                        "choose the parent activity.",
                        activity=activity.name,
                        trigger=trigger,
                    )
                )
            if parent and parent.campaign_id != activity.campaign_id:
                raise ValidationError(
                    _(
                        "The parent of activity %(activity)s must belong to the same campaign.",
                        activity=activity.name,
                    )
                )
            parent_type = TRIGGERS[activity.trigger_type].parent_type
            if parent_type and parent.activity_type != parent_type:
                raise ValidationError(
                    _(
                        "Activity %(activity)s is triggered by “%(trigger)s”: its parent "
                        "%(parent)s must be an activity of type %(type)s.",
                        activity=activity.name,
                        trigger=trigger,
                        parent=parent.name,
                        type=dict(self._fields["activity_type"]._description_selection(self.env))[
                            parent_type
                        ],
                    )
                )
        if self._has_cycle():
            raise ValidationError(_("An activity cannot be its own ancestor."))

    @api.constrains("parent_id", "campaign_id")
    def _check_workflow_size(self):
        """A campaign has at most ``MAX_CAMPAIGN_ACTIVITIES`` activities, at
        most ``MAX_WORKFLOW_DEPTH`` levels deep: one query for the campaigns'
        whole trees, whatever their shape."""
        activities = self.search_fetch(
            [("campaign_id", "in", self.campaign_id.ids)], ["campaign_id", "parent_id"]
        )
        for campaign, campaign_activities in activities.grouped("campaign_id").items():
            if len(campaign_activities) > MAX_CAMPAIGN_ACTIVITIES:
                raise ValidationError(
                    _(
                        "Campaign %(campaign)s cannot have more than %(max)s activities.",
                        campaign=campaign.name,
                        max=MAX_CAMPAIGN_ACTIVITIES,
                    )
                )
        parents = {activity.id: activity.parent_id.id for activity in activities}
        depths = {False: 0}
        for activity in activities:
            chain, current = [], activity.id
            while current not in depths and len(chain) <= MAX_WORKFLOW_DEPTH:
                chain.append(current)
                current = parents.get(current, False)
            # an ancestor not reached within the bound counts as too deep
            depth = depths.get(current, MAX_WORKFLOW_DEPTH)
            for ancestor in reversed(chain):
                depth += 1
                depths[ancestor] = depth
            if depths[activity.id] > MAX_WORKFLOW_DEPTH:
                raise ValidationError(
                    _(
                        "Activity %(activity)s is too deep in the workflow of campaign "
                        "%(campaign)s: a workflow has at most %(max)s levels.",
                        activity=activity.name,
                        campaign=activity.campaign_id.name,
                        max=MAX_WORKFLOW_DEPTH,
                    )
                )

    @api.constrains("domain", "campaign_id")
    def _check_domain(self):
        for activity in self:
            activity._parse_domain(activity.domain)

    @api.constrains("activity_type", "mass_mailing_id", "server_action_id", "campaign_id")
    def _check_activity_content(self):
        """An email or SMS has its template (of the campaign's target, with
        content), a server action its action; a split has neither."""
        type_labels = dict(self._fields["activity_type"]._description_selection(self.env))
        for activity in self:
            campaign_model = activity.campaign_id.model_name
            if activity.activity_type in ("email", "sms"):
                mailing = activity.mass_mailing_id
                if not mailing:
                    raise ValidationError(
                        _(
                            "Activity %(activity)s needs a template to send.",
                            activity=activity.name,
                        )
                    )
                if mailing.mailing_type != activity.mass_mailing_id_mailing_type:
                    raise ValidationError(
                        _(
                            "The template %(mailing)s of activity %(activity)s is not an "
                            "%(type)s template.",
                            mailing=mailing.subject or mailing.name,
                            activity=activity.name,
                            type=type_labels[activity.activity_type],
                        )
                    )
                if activity.activity_type == "email" and is_mail_body_empty(mailing.body_html):
                    raise ValidationError(
                        _(
                            "The email %(mailing)s of activity %(activity)s is empty: write "
                            "its content first.",
                            mailing=mailing.subject or mailing.name,
                            activity=activity.name,
                        )
                    )
                if mailing.mailing_model_real != campaign_model:
                    raise ValidationError(
                        _(
                            "The template %(mailing)s of activity %(activity)s must target "
                            "the campaign's model %(model)s.",
                            mailing=mailing.subject or mailing.name,
                            activity=activity.name,
                            model=activity.campaign_id.model_id.name,
                        )
                    )
            elif activity.activity_type == "action":
                action = activity.server_action_id
                if not action:
                    raise ValidationError(
                        _(
                            "Activity %(activity)s needs a server action to run.",
                            activity=activity.name,
                        )
                    )
                if action.model_name != campaign_model:
                    raise ValidationError(
                        _(
                            "The server action %(action)s of activity %(activity)s must run "
                            "on the campaign's model %(model)s.",
                            action=action.name,
                            activity=activity.name,
                            model=activity.campaign_id.model_id.name,
                        )
                    )
            elif activity.activity_type == "split" and (
                activity.mass_mailing_id or activity.server_action_id
            ):
                raise ValidationError(
                    _(
                        "Activity %(activity)s is an A/B split: it sends nothing and runs "
                        "nothing, its branches do. Remove its template or server action.",
                        activity=activity.name,
                    )
                )

    @api.constrains(
        "activity_type",
        "campaign_id",
        "tag_ids",
        "mailing_list_id",
        "plan_activity_type_id",
        "plan_summary",
        "plan_deadline_days",
        "plan_user_type",
        "plan_user_id",
        "note_body",
        "set_field_id",
        "set_field_value",
        "set_field_res_id",
    )
    def _check_record_step(self):
        """A step on the record says what it changes, on a target that has it,
        within bounds; the value of "Update a Field" is checked here, when it
        is saved, not when it runs."""
        for activity in self.filtered(lambda a: a.activity_type in RECORD_STEP_TYPES):
            if problem := activity._get_record_step_problem():
                raise ValidationError(problem)
            if activity.activity_type == "set_field":
                activity._get_set_field_value()

    @api.constrains("mass_mailing_id", "campaign_id")
    def _check_unique_template_title(self):
        """Two templates of a campaign never share a title: the statistics and
        the reports name them by it."""
        for campaign in self.campaign_id:
            mailings = campaign.marketing_activity_ids.mass_mailing_id
            for subject, same in mailings.grouped("subject").items():
                if len(same) > 1:
                    raise ValidationError(
                        _(
                            "Campaign %(campaign)s already has a template titled “%(title)s”: "
                            "give each template of a campaign its own title.",
                            campaign=campaign.name,
                            title=subject,
                        )
                    )

    @api.constrains("mass_mailing_id", "campaign_id")
    def _check_template_of_one_campaign(self):
        """A template belongs to one campaign: editing it changes that campaign
        only (a copied campaign gets copies of its templates)."""
        # sudo: the activities of other campaigns, of any company, that use the templates
        for mailing in self.sudo().mass_mailing_id:
            if not mailing.use_in_marketing_automation:
                raise ValidationError(
                    _(
                        "The mailing %(mailing)s is not a campaign template: choose or write "
                        "a template of Marketing Automation.",
                        mailing=mailing.subject,
                    )
                )
            if len(mailing.marketing_activity_ids.campaign_id) > 1:
                raise ValidationError(
                    _(
                        "The template %(mailing)s is already sent by another campaign: a "
                        "template belongs to one campaign. Write a new one, or copy it.",
                        mailing=mailing.subject,
                    )
                )

    @api.constrains("server_action_id")
    def _check_server_action_groups(self):
        """A user only sets a server action that the user may run."""
        if self.env.su:
            return
        for activity in self.filtered("server_action_id"):
            # sudo: the groups of an action are configuration, read to compare them
            groups = activity.server_action_id.sudo().groups_id
            if groups and not groups & self.env.user.groups_id:
                raise ValidationError(
                    _(
                        "You cannot use the server action %(action)s in activity "
                        "%(activity)s: it is restricted to groups you do not belong to.",
                        action=activity.server_action_id.name,
                        activity=activity.name,
                    )
                )

    @api.constrains("run_once_per_batch", "server_action_id")
    def _check_run_once_per_batch(self):
        """Run once per batch leaves ``record`` unset: code must use ``records``."""
        for activity in self.filtered("run_once_per_batch"):
            if single := activity.server_action_id._get_single_record_code_actions():
                raise ValidationError(
                    _(
                        "Activity %(activity)s cannot run the server action %(action)s on "
                        "several records at once: its code works on one “record”, not on "
                        "“records”. Run it once per record, or ask a Settings administrator "
                        "to write it for “records”.",
                        activity=activity.name,
                        action=single[0].name,
                    )
                )

    @api.constrains("split_weight")
    def _check_split_weight(self):
        for activity in self:
            if not 0 <= activity.split_weight <= 100:
                raise ValidationError(
                    _(
                        "The share of branch %(activity)s must be a percentage between 0 and 100.",
                        activity=activity.name,
                    )
                )

    @api.onchange("activity_type")
    def _onchange_activity_type(self):
        if self.mass_mailing_id and self.mass_mailing_id.mailing_type != (
            self.mass_mailing_id_mailing_type
        ):
            self.mass_mailing_id = False
        if self.activity_type != "action":
            self.server_action_id = False
        # said at once, not when the campaign is saved
        if problem := self._get_record_step_target_problem():
            return {
                "warning": {
                    "title": _("Not for this target"),
                    "message": problem,
                    "type": "notification",
                }
            }

    @api.onchange("set_field_id")
    def _onchange_set_field_id(self):
        self.set_field_value = False
        self.set_field_boolean = False
        self.set_field_date = False
        self.set_field_res_id = False

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_not_negative(vals)
            self._prepare_sms_template(vals, vals.get("campaign_id"))
        activities = super().create(vals_list)
        activities.campaign_id._take_responsibility()
        activities._link_mailing_to_utm_campaign()
        activities.campaign_id._flag_workflow_modified()
        return activities

    def write(self, vals):
        if "campaign_id" in vals and any(a.campaign_id.id != vals["campaign_id"] for a in self):
            raise UserError(
                _("An activity cannot move to another campaign: create it in that campaign.")
            )
        for activity in self:
            self._check_not_negative(vals, activity)
        self.campaign_id._take_responsibility()
        if "sms_body" in vals and len(self) == 1:  # the activity form writes one at a time
            self._prepare_sms_template(vals, self.campaign_id.id, self)
        res = super().write(vals)
        if "mass_mailing_id" in vals:
            self._link_mailing_to_utm_campaign()
        self.campaign_id._flag_workflow_modified()
        return res

    def unlink(self):
        # before taking responsibility: a refused user must not become responsible
        self._check_unlink_history()
        campaigns = self.campaign_id
        campaigns._take_responsibility()
        # the children go with their parent (cascade): the templates of the whole campaigns
        mailings = campaigns.marketing_activity_ids.mass_mailing_id
        res = super().unlink()
        campaigns._flag_workflow_modified()
        mailings._drop_unused_marketing_templates()
        return res

    def _check_unlink_history(self):
        """Deleting an activity deletes its traces and those of the activities
        that follow it: the history of real participants is deleted by
        Marketing Automation administrators only."""
        if self.env.su or self.env.user.has_group(MANAGER_GROUP):
            return
        # sudo: only how many traces the deletion would remove, whoever may read them
        counts = (
            self.env["marketing.trace"]
            .sudo()
            ._read_group(
                [("activity_id", "child_of", self.ids), ("is_test", "=", False)],
                ["activity_id"],
                ["__count"],
            )
        )
        deleted_ids = set(self.ids)
        totals = defaultdict(int)
        for activity, count in counts:
            # the deleted activity this one follows (or is)
            while activity.id not in deleted_ids:
                activity = activity.parent_id
            totals[activity.id] += count
        for activity in self.filtered(lambda a: totals[a.id]):
            raise AccessError(
                _(
                    "Activity %(activity)s has %(count)s traces, with those of the activities "
                    "that follow it: only a Marketing Automation administrator can delete it "
                    "with the history of its participants.",
                    activity=activity.name,
                    count=totals[activity.id],
                )
            )

    def copy_data(self, default=None):
        """A copy sends its own copy of the template, so that editing one never
        edits the other; in the same campaign, under a new title (a campaign's
        templates have distinct titles). Server actions are shared: only
        Settings administrators edit them."""
        vals_list = super().copy_data(default=default)
        if default and "mass_mailing_id" in default:
            return vals_list
        for activity, vals in zip(self, vals_list, strict=True):
            if mailing := activity.mass_mailing_id:
                subject = mailing.subject
                if vals["campaign_id"] == activity.campaign_id.id:
                    subject = self.env._("%(name)s (copy)", name=subject)
                vals["mass_mailing_id"] = mailing._copy_marketing_template(subject).id
        return vals_list

    @api.model
    def _prepare_sms_template(self, vals, campaign_id, activity=None):
        """An SMS written in the activity itself (``sms_body``) without a
        template gets one, created before the activity needs it."""
        activity_type = vals.get("activity_type", activity.activity_type if activity else "email")
        has_mailing = (
            vals["mass_mailing_id"]
            if "mass_mailing_id" in vals
            else bool(activity and activity.mass_mailing_id)
        )
        if activity_type != "sms" or has_mailing or not vals.get("sms_body") or not campaign_id:
            return
        campaign = self.env["marketing.campaign"].browse(campaign_id)
        vals["mass_mailing_id"] = (
            self.env["mailing.mailing"]
            .create(
                {
                    "subject": vals.get("name") or (activity and activity.name),
                    "mailing_type": "sms",
                    "mailing_model_id": campaign.model_id.id,
                    "use_in_marketing_automation": True,
                    "body_plaintext": vals["sms_body"],
                    "campaign_id": campaign.utm_campaign_id.id,
                }
            )
            .id
        )

    def _link_mailing_to_utm_campaign(self):
        """Tie the templates to the campaign's UTM campaign, so that their
        mailing traces and tracked links report under it. A template shared by
        campaigns keeps the first one: Odoo stores the UTM campaign of a
        mailing trace from its mailing."""
        for activity in self.filtered(
            lambda a: a.mass_mailing_id and not a.mass_mailing_id.campaign_id
        ):
            activity.mass_mailing_id.campaign_id = activity.campaign_id.utm_campaign_id

    def _get_usage_label(self, env):
        """How to name this activity to the user of ``env`` in a message: by its
        name when the user can read it, else only as part of a campaign."""
        self.ensure_one()
        if self.with_env(env).has_access("read"):
            return _(
                "activity %(activity)s of campaign %(campaign)s",
                activity=self.name,
                campaign=self.campaign_id.name,
            )
        return _("an activity of a Marketing Automation campaign")

    def _copy_tree(self, campaign, parent=None, mailing_copies=None):
        """Copy these activities and their descendants into ``campaign``, with
        one copy of each of their templates (``mailing_copies``: those made so
        far, by template)."""
        mailing_copies = {} if mailing_copies is None else mailing_copies
        for activity in self:
            default = {"campaign_id": campaign.id, "parent_id": parent.id if parent else False}
            if mailing := activity.mass_mailing_id:
                if mailing not in mailing_copies:
                    mailing_copies[mailing] = mailing._copy_marketing_template()
                default["mass_mailing_id"] = mailing_copies[mailing].id
            new_activity = activity.copy(default)
            activity.child_ids._copy_tree(campaign, new_activity, mailing_copies)

    # ------------------------------------------------------------
    # VOCABULARY AND STATISTICS
    # ------------------------------------------------------------

    @api.model
    @api.readonly
    def get_workflow_vocabulary(self):
        """What the workflow editor and the test screen say and draw, from
        the trigger table and the selections: the editor holds no copy, so
        that a new trigger or activity type shows without changing it."""
        self.check_access("read")
        return self._get_workflow_vocabulary()

    @api.model
    def _get_workflow_vocabulary(self):
        """The vocabulary of the workflow in the user's language:

        - ``activity_types``: by type, its ``label``, ``icon`` and the
          ``measures`` of its messages (none: it sends none);
        - ``triggers``: by trigger, its ``label`` (``%(delay)s`` for the
          delay) and its ``label_now`` (without a delay), whether it is a
          ``root`` (no parent) and the event it is ``awaited`` for (False:
          it waits for none);
        - ``child_triggers``: by parent type, the ``[trigger, label]`` its
          children can have;
        - ``delay_units``: by interval type, its ``[singular, plural]``;
        - ``measures``: by figure, its label;
        - ``state_colors``: by trace state, its colour (a Bootstrap one);
        - ``participant_state_colors``: the same by participant state.
        """
        measures = self._get_measures()
        type_labels = self._fields["activity_type"]._description_selection(self.env)
        events_by_type = defaultdict(list)
        for trigger in TRIGGERS.values():
            events = events_by_type[trigger.parent_type]
            if trigger.parent_type and trigger.event and trigger.event not in events:
                events.append(trigger.event)
        activity_types = {
            key: {
                "label": label,
                "icon": ACTIVITY_TYPE_ICONS.get(key, DEFAULT_ACTIVITY_TYPE_ICON),
                "measures": (
                    ["sent", *(event for event in EVENTS if event in events_by_type[key])]
                    if events_by_type[key]
                    else []
                ),
            }
            for key, label in type_labels
        }
        trigger_labels = dict(self._fields["trigger_type"]._description_selection(self.env))
        plural_units = dict(self._fields["interval_type"]._description_selection(self.env))
        singular_units = {
            "hours": _("Hour"),
            "days": _("Day"),
            "weeks": _("Week"),
            "months": _("Month"),
        }
        return {
            "activity_types": activity_types,
            "triggers": {
                key: {
                    "label": self.env._(trigger.label) if trigger.label else "%(delay)s",
                    "label_now": (
                        self.env._(trigger.label_now or trigger.label)
                        if trigger.label_now or trigger.label
                        else "%(delay)s"
                    ),
                    "root": trigger.root,
                    "awaited": (
                        self.env._(EVENTS[trigger.event].label)
                        if trigger.event and trigger.positive
                        else False
                    ),
                }
                for key, trigger in TRIGGERS.items()
            },
            "child_triggers": {
                parent_type: [
                    [
                        key,
                        self.env._(trigger.child_label)
                        if trigger.child_label
                        else trigger_labels[key],
                    ]
                    for key, trigger in TRIGGERS.items()
                    if not trigger.root and trigger.parent_type in (None, parent_type)
                ]
                for parent_type in activity_types
            },
            "delay_units": {
                unit: [singular_units.get(unit, plural), plural]
                for unit, plural in plural_units.items()
            },
            "measures": {measure: label for measure, (label, _domain) in measures.items()},
            "state_colors": dict(STATE_COLORS),
            "participant_state_colors": dict(PARTICIPANT_STATE_COLORS),
        }

    @api.model
    def _format_trigger_label(self, vocabulary, trigger_type, interval_number, interval_type):
        """The trigger and delay of an activity as the workflow shows them
        ("2 Days", "Opened after 2 Hours", "Opened, at once"); the editor formats them the same
        way from the same vocabulary (``triggerLabel`` in workflow_utils.js)."""
        singular, plural = vocabulary["delay_units"].get(interval_type, ("", ""))
        delay = f"{interval_number} {singular if interval_number == 1 else plural}"
        trigger = vocabulary["triggers"].get(trigger_type)
        if not trigger:
            return delay
        return trigger["label" if interval_number else "label_now"] % {"delay": delay}

    @api.model
    def _get_measures(self):
        """The figures of an activity, in the editor's order: by measure, its
        label and the domain of the traces (of marketing.trace) it counts."""
        measures = {
            "processed": (_("Success"), [("state", "=", "processed")]),
            "rejected": (_("Rejected"), [("state", "=", "rejected")]),
            "error": (_("Failed"), [("state", "=", "error")]),
            "sent": (_("Sent"), [("mailing_trace_ids.trace_status", "in", SENT_STATUSES)]),
        }
        for event in EVENTS.values():
            measures[event.name] = (
                self.env._(event.label),
                [("mailing_trace_ids", "any", event.get_counted_domain())],
            )
        return measures

    def _read_statistics(self):
        """The figures of these activities by id, in two grouped queries
        whatever their number: ``trace_count`` (every trace, those of test
        participants included: what deleting the activity removes), then, for
        real participants only, the number of traces in each state and the
        statistics of their messages: ``sent`` and one count per event of the
        trigger table (``open``, ``reply``, ``click``, ``bounce``), counted as
        the measures of ``_get_measures`` select them."""
        states = [state for state, _label in self.env["marketing.trace"]._fields["state"].selection]
        statistics = {
            activity.id: dict.fromkeys(["trace_count", *states, "sent", *EVENTS], 0)
            for activity in self
        }
        for activity, state, is_test, count in self.env["marketing.trace"]._read_group(
            [("activity_id", "in", self.ids)], ["activity_id", "state", "is_test"], ["__count"]
        ):
            stats = statistics[activity.id]
            stats["trace_count"] += count
            if not is_test:
                stats[state] += count
        dated_events = [event for event in EVENTS.values() if not event.counted_statuses]
        for activity, status, count, *dated_counts in self.env["mailing.trace"]._read_group(
            [
                ("marketing_activity_id", "in", self.ids),
                ("marketing_trace_id.is_test", "=", False),
            ],
            ["marketing_activity_id", "trace_status"],
            ["__count", *(f"{event.date_field}:count" for event in dated_events)],
        ):
            stats = statistics[activity.id]
            stats["sent"] += count if status in SENT_STATUSES else 0
            for event in EVENTS.values():
                stats[event.name] += count if status in event.counted_statuses else 0
            for event, dated_count in zip(dated_events, dated_counts, strict=True):
                stats[event.name] += dated_count
        return statistics

    def _get_measure(self, measure):
        """The label and the trace domain of ``measure``, or a UserError."""
        measures = self._get_measures()
        if measure not in measures:
            raise UserError(_("The activity has no figure named %(measure)s.", measure=measure))
        return measures[measure]

    def action_view_traces(self, measure):
        """The traces of real participants behind a figure of the activity
        (``measure``: a key of ``_get_measures``), as the figure counts them:
        the figure is the search filter named after the measure (a facet the
        user sees and can remove), the list shows the date of the measure."""
        self.ensure_one()
        self.check_access("read")
        label, _domain = self._get_measure(measure)
        return {
            "type": "ir.actions.act_window",
            "name": _("%(measure)s — %(activity)s", measure=label, activity=self.name),
            "res_model": "marketing.trace",
            "domain": [("activity_id", "=", self.id), ("is_test", "=", False)],
            "views": [(False, "list"), (False, "form")],
            "context": {
                "create": False,
                f"search_default_{measure}": 1,
                "marketing_measure": measure,
            },
        }

    def action_view_participants(self, measure):
        """The real participants behind a figure of the activity: those with
        a trace of it that counts in ``measure`` (the search filter
        ``measure_<measure>`` of the participants, which reads the activity
        from the context), latest first."""
        self.ensure_one()
        self.check_access("read")
        label, _domain = self._get_measure(measure)
        return {
            "type": "ir.actions.act_window",
            "name": _(
                "%(measure)s — %(activity)s: participants", measure=label, activity=self.name
            ),
            "res_model": "marketing.participant",
            "domain": [("is_test", "=", False), ("trace_ids.activity_id", "=", self.id)],
            "views": [(False, "list"), (False, "form")],
            "context": {
                "create": False,
                f"search_default_measure_{measure}": 1,
                "marketing_activity_id": self.id,
                "marketing_measure": measure,
            },
        }

    @api.model
    def _get_measure_filters(self, model_name):
        """The search filters of the figures on ``model_name`` (marketing.trace
        or marketing.participant), by name: ``(label, domain as text)``. Those
        on participants read the activity from the context
        (``marketing_activity_id``, set by ``action_view_participants``)."""
        filters = {}
        for measure, (label, domain) in self._get_measures().items():
            if model_name == "marketing.trace":
                filters[measure] = (label, repr(domain))
            else:
                leaves = ", ".join(repr(leaf) for leaf in domain)
                filters[f"measure_{measure}"] = (
                    label,
                    "[('trace_ids', 'any', [('activity_id', '=', "
                    f"context.get('marketing_activity_id')), {leaves}])]",
                )
        return filters

    @api.model
    def _add_measure_filters(self, arch, model_name):
        """Add to the search view ``arch`` of ``model_name`` the filters of
        ``_get_measure_filters`` it does not have yet, in a group of their own
        after its first filter group (the filters of participants are hidden:
        they need an activity)."""
        filters = arch.xpath("//search/filter")
        if not filters:
            return
        existing = {node.get("name") for node in arch.xpath("//filter[@name]")}
        anchor = filters[0]
        while (sibling := anchor.getnext()) is not None and sibling.tag == "filter":
            anchor = sibling
        new_filters = {
            name: values
            for name, values in self._get_measure_filters(model_name).items()
            if name not in existing
        }
        if new_filters:
            # a group of its own: the figures are not OR-ed with the first filters
            anchor.addnext(etree.Element("separator"))
            anchor = anchor.getnext()
        for name, (label, domain) in new_filters.items():
            node = etree.Element("filter", string=label, name=name, domain=domain)
            if model_name != "marketing.trace":
                node.set("invisible", "1")
            anchor.addnext(node)
            anchor = node

    # ------------------------------------------------------------
    # TOOLS
    # ------------------------------------------------------------

    def _get_applied_domain(self):
        """The campaign filter AND the filters of the activity and its ancestors."""
        self.ensure_one()
        domains = [self.campaign_id._get_applied_domain()]
        activity = self
        while activity:
            domains.append(activity._parse_domain(activity.domain))
            activity = activity.parent_id
        return expression.AND(domains)

    def _get_filter_user(self):
        """An activity's filter reads the values of its campaign's filter."""
        return self.campaign_id._get_filter_user()

    # ------------------------------------------------------------
    # EXECUTION
    # ------------------------------------------------------------

    def _execute(self, traces, user=None):
        """Run this activity for a batch of its due traces, with the rights of
        ``user``, who runs the campaign (the scheduler hands it down): the
        user who clicked Run, or the responsible under the scheduler; never the
        superuser."""
        self.ensure_one()
        campaign = self.campaign_id
        env = campaign._with_running_user(user or campaign._get_running_user()).env
        self.with_env(env)._execute_batch(traces.with_env(env))

    def _execute_batch(self, traces):
        """Run this activity for a batch of its due traces.

        Expired traces are canceled, negative triggers whose event happened are
        canceled, traces whose record no longer matches the applied filter are
        rejected; the others run in one call per batch. A failure of the batch is
        retried trace by trace so that only the faulty traces end in error.
        """
        self.ensure_one()
        now = fields.Datetime.now()
        traces = traces.filtered(lambda t: t.state == "scheduled")
        if self.validity_duration and traces:
            traces -= traces._cancel_expired(SQL("trace.id IN %s", tuple(traces.ids)), now)
        traces = self._skip_goal_reached(traces, now)
        traces -= self._postpone_outside_window(traces)
        trigger = TRIGGERS[self.trigger_type]
        if trigger.event and not trigger.positive:
            happened = traces.parent_id._filter_event(trigger.event)
            voided = traces.filtered(lambda t: t.parent_id in happened)
            voided._set_state("canceled", EVENTS[trigger.event].cancel_reason)
            traces -= voided
        traces = self._reject_unmatched(traces)
        if traces and (reason := self._get_content_problem()):
            traces._set_state("rejected", reason)
            return
        if traces and self.activity_type in FREQUENCY_CAPS:
            traces = traces._hold_over_cap(self.activity_type, now)
        if not traces:
            return
        runner = getattr(self, f"_execute_{self.activity_type}")
        try:
            with self.env.cr.savepoint():
                runner(traces, now)
        except Exception as error:  # noqa: BLE001 - isolate the faulty traces below
            self.env.invalidate_all()
            if len(traces) == 1:
                traces._set_error(error, now)
                return
            for trace in traces:
                try:
                    with self.env.cr.savepoint():
                        runner(trace, now)
                except Exception as trace_error:  # noqa: BLE001 - the trace carries it
                    self.env.invalidate_all()
                    trace._set_error(trace_error, now)
        if self.child_ids:
            traces.filtered(lambda t: t.state == "processed")._schedule_children(now)

    def _get_content_problem(self):
        """Why the activity's mailing or server action cannot run now (it was
        archived, or changed model or type since it was chosen), or None."""
        model = self.campaign_id.model_id
        if self.activity_type in ("email", "sms"):
            mailing = self.mass_mailing_id
            if not mailing.active:
                return _lt(
                    "Not sent: the template %(mailing)s is archived.", mailing=mailing.subject
                )
            if (
                is_mail_body_empty(mailing.body_html)
                if mailing.mailing_type == "mail"
                else not (mailing.body_plaintext or "").strip()
            ):
                return _lt("Not sent: the template %(mailing)s is empty.", mailing=mailing.subject)
            if (
                mailing.mailing_type != self.mass_mailing_id_mailing_type
                or mailing.mailing_model_real != model.model
            ):
                return _lt(
                    "Not sent: the template %(mailing)s no longer targets %(model)s.",
                    mailing=mailing.subject,
                    model=model.name,
                )
        elif self.activity_type == "split":
            return self._get_split_problem()
        elif self.activity_type in RECORD_STEP_TYPES:
            if problem := self._get_record_step_problem():
                return _lt("Not run: %(reason)s", reason=problem)
        elif self.server_action_id.model_id != model:
            return _lt(
                "Not run: the server action %(action)s no longer runs on %(model)s.",
                action=self.server_action_id.name,
                model=model.name,
            )
        return None

    def _reject_unmatched(self, traces):
        """Reject the traces whose record is gone or no longer matches the
        applied filter; return the others."""
        if not traces:
            return traces
        records = self.campaign_id._get_target_records()
        res_ids = set(traces.mapped("res_id"))
        matching = set(
            records.search(
                expression.AND([[("id", "in", list(res_ids))], self._get_applied_domain()])
            ).ids
        )
        unmatched = traces.filtered(lambda t: t.res_id not in matching)
        if not unmatched:
            return traces
        # sudo: only whether the rows still exist, whoever can read them
        existing = set(records.sudo().browse(set(unmatched.mapped("res_id"))).exists().ids)
        gone = unmatched.filtered(lambda t: t.res_id not in existing)
        gone._set_state("rejected", _lt("The record no longer exists."))
        readable = set(
            records.with_context(active_test=False)._search(
                [("id", "in", list(existing - matching))]
            )
        )
        unreadable = (unmatched - gone).filtered(lambda t: t.res_id not in readable)
        unreadable._set_state(
            "rejected",
            _lt("The responsible %(user)s cannot read this record.", user=records.env.user.name),
        )
        (unmatched - gone - unreadable)._set_state(
            "rejected", _lt("The record does not match the filter of the activity.")
        )
        return traces - unmatched

    def _execute_email(self, traces, now):
        self._send_mailing(traces, now, "_action_send_mail")
        self.env.ref("mail.ir_cron_mail_scheduler_action")._trigger()

    def _execute_sms(self, traces, now):
        self._send_mailing(traces, now, "action_send_sms")
        self.env.ref("sms.ir_cron_sms_scheduler_action")._trigger()

    def _send_mailing(self, traces, now, send_method):
        """Send the activity's mailing to the batch's records through Odoo's
        mass mailing (blacklist, opt-out, unsubscribe links, link tracking, UTM
        and statistics all apply). Traces are marked before the mails exist: the
        batch is committed as a whole by the caller, so a crash can neither send
        twice nor lose a trace. Recipients Odoo refuses give rejected traces."""
        for batch in traces._split_by_res_id():
            batch._set_state("processed", False, now)
            mailing = self.mass_mailing_id.with_context(
                **{CAMPAIGN_BATCH_KEY: CampaignBatch((trace.res_id, trace.id) for trace in batch)}
            )
            getattr(mailing, send_method)(batch.mapped("res_id"))
        mailing_traces = self.env["mailing.trace"].search(
            [("marketing_trace_id", "in", traces.ids)]
        )
        refused = mailing_traces.filtered(lambda t: t.trace_status in ("cancel", "error"))
        for reason, reason_traces in refused.grouped(
            lambda t: t._get_marketing_failure_reason()
        ).items():
            reason_traces.marketing_trace_id._set_state(
                "rejected", _lt("Not sent: %(reason)s", reason=reason)
            )
        (traces - mailing_traces.marketing_trace_id)._set_state(
            "rejected", _lt("Not sent: the record has no recipient.")
        )

    def _execute_action(self, traces, now):
        """Run the server action with the rights of the user running the batch
        (``run`` checks the action's groups and the right to write the
        records): once per record, or once for the whole batch (``records``)
        when the activity runs it once per batch. A failing batch is re-run
        record by record by ``_execute_batch``."""
        traces._set_state("processed", False, now)
        action = self.server_action_id.with_env(self.env).with_context(active_model=self.model_name)
        res_ids = traces.mapped("res_id")
        if self.run_once_per_batch:
            action.with_context(active_ids=res_ids).run()
            return
        # the access check of the whole batch, in one query: the check that run()
        # makes on each record then reads the records from the cache
        self.env[self.model_name].browse(res_ids).check_access("write")
        for res_id in res_ids:
            action.with_context(active_id=res_id, active_ids=[res_id]).run()

    def _get_step_records(self, traces):
        """The records of the batch, which a step on the record changes with
        the rights of the user running it: refused (an error trace for each
        record, with the reason) when he may not change them."""
        records = self.env[self.model_name].browse(traces.mapped("res_id"))
        try:
            records.check_access("write")
        except AccessError:
            raise AccessError(
                _(
                    "Not run: %(user)s may not change this %(model)s record.",
                    user=self.env.user.name,
                    model=self.campaign_id.model_id.name,
                )
            ) from None
        return records

    def _execute_tag(self, traces, now):
        """Add the tags to the batch's records, or remove them: one write."""
        traces._set_state("processed", False, now)
        records = self._get_step_records(traces)
        command = Command.link if self.tag_operation == "add" else Command.unlink
        records.write({self._get_tag_field().name: [command(tag.id) for tag in self.tag_ids]})

    def _execute_mailing_list(self, traces, now):
        """Subscribe the batch's mailing contacts to the list, or take them
        out of it: one write. A contact who opted out of the list stays opted
        out (his subscription is kept as it is)."""
        traces._set_state("processed", False, now)
        records = self._get_step_records(traces)
        command = Command.link if self.mailing_list_operation == "add" else Command.unlink
        records.write({"list_ids": [command(self.mailing_list_id.id)]})

    def _execute_plan_activity(self, traces, now):
        """Plan the activity on each record of the batch, for the chosen user
        or the record's salesperson (the user running the step when the
        record has none)."""
        traces._set_state("processed", False, now)
        records = self._get_step_records(traces)
        deadline = fields.Date.context_today(self) + timedelta(days=self.plan_deadline_days)
        for record in records:
            user = (
                self.plan_user_id
                if self.plan_user_type == "user"
                else record.user_id or self.env.user
            )
            record.activity_schedule(
                activity_type_id=self.plan_activity_type_id.id,
                summary=self.plan_summary or "",
                date_deadline=deadline,
                user_id=user.id,
            )

    def _execute_note(self, traces, now):
        """Log the text as a note on each record of the batch, escaped: it is
        text, never a template."""
        traces._set_state("processed", False, now)
        records = self._get_step_records(traces)
        body = plaintext2html(self.note_body)
        for record in records:
            record.message_post(body=body, message_type="comment", subtype_xmlid="mail.mt_note")

    def _execute_set_field(self, traces, now):
        """Write the value in the field of the batch's records: one write."""
        traces._set_state("processed", False, now)
        records = self._get_step_records(traces)
        records.write({self._get_set_field().name: self._get_set_field_value()})

    # ------------------------------------------------------------
    # STEPS ON THE RECORD
    # ------------------------------------------------------------

    def _get_tag_field(self):
        """The field holding the contact tags of the target (Tags of a contact
        or a mailing contact), or None."""
        self.ensure_one()
        if self.model_name not in self.env:
            return None
        fields_by_name = self.env[self.model_name]._fields
        for name in ("category_id", "tag_ids"):
            field = fields_by_name.get(name)
            if (
                field
                and field.type == "many2many"
                and field.store
                and field.comodel_name == "res.partner.category"
            ):
                return field
        return None

    def _is_settable_field(self, field):
        """Whether "Update a Field" may write ``field``: a plain stored field
        of the target, neither computed nor related nor technical, that the
        user may read and write (a link only to a business record)."""
        if (
            not field.store
            or field.compute
            or field.related
            or field.readonly
            or field.type not in SET_FIELD_TYPES
            or field.name in SET_FIELD_FORBIDDEN
            or field.name.startswith(("message_", "activity_", "website_message_"))
            or not (self.env.su or field.is_accessible(self.env))
        ):
            return False
        if field.type == "many2one":
            comodel = field.comodel_name
            return not (
                comodel in SET_FIELD_FORBIDDEN_RELATIONS
                or comodel.startswith("ir.")
                or comodel not in self.env
                or self.env[comodel]._transient
                or self.env[comodel]._abstract
            )
        return True

    def _get_set_field(self):
        """The field of the target "Update a Field" writes, or None when none
        is chosen or it may not be set."""
        self.ensure_one()
        if not self.set_field_id or self.model_name not in self.env:
            return None
        field = self.env[self.model_name]._fields.get(self.set_field_id.name)
        if (
            self.set_field_id.model != self.model_name
            or not field
            or not self._is_settable_field(field)
        ):
            return None
        return field

    def _get_set_field_value(self):
        """The value "Update a Field" writes, converted for its field, or a
        ValidationError saying what is expected."""
        self.ensure_one()
        field = self._get_set_field()
        text = (self.set_field_value or "").strip()

        def refuse(expected):
            return ValidationError(
                _(
                    "Activity %(activity)s cannot set %(field)s to “%(value)s”: %(expected)s",
                    activity=self.name,
                    field=self.set_field_id.field_description,
                    value=text,
                    expected=expected,
                )
            )

        if field.type in ("char", "text"):
            if field.type == "char" and field.size and len(text) > field.size:
                raise refuse(_("at most %(size)s characters.", size=field.size))
            return self.set_field_value or False
        if field.type == "integer":
            try:
                value = int(text or 0)
            except ValueError:
                raise refuse(_("a whole number is expected.")) from None
            if not -(2**31) <= value < 2**31:
                raise refuse(_("the number is too large."))
            return value
        if field.type == "float":
            try:
                value = float(text or 0)
            except ValueError:
                raise refuse(_("a number is expected (e.g. 12.5).")) from None
            if not math.isfinite(value):
                raise refuse(_("a number is expected (e.g. 12.5)."))
            return value
        if field.type == "boolean":
            return self.set_field_boolean
        if field.type == "date":
            return self.set_field_date
        if field.type == "selection":
            if not text:
                return False
            for key, label in field._description_selection(self.env):
                if text in (str(key), label) or text.casefold() == str(label).casefold():
                    return key
            raise refuse(_("choose one of: %(choices)s.", choices=self.set_field_choices))
        # many2one: a record the user can read, or empty
        if not self.set_field_res_id:
            return False
        linked = self.env[field.comodel_name].browse(self.set_field_res_id).exists()
        if not linked or not linked.has_access("read"):
            raise refuse(
                _(
                    "choose a record of %(model)s that you can read.",
                    model=self.env["ir.model"]._get(field.comodel_name).name,
                )
            )
        return linked.id

    def _get_record_step_target_problem(self):
        """Why the campaign's target cannot have this kind of step on the
        record (no tags, not in lists, no activities, no chatter), or None."""
        self.ensure_one()
        target = self.campaign_id.model_id.name
        Target = self.env[self.model_name] if self.model_name in self.env else None
        kind = self.activity_type
        # the dialog may not have the name yet: the kind names it
        name = self.name or dict(
            self._fields["activity_type"]._description_selection(self.env)
        ).get(kind, "")
        if kind == "tag" and not self._get_tag_field():
            return _(
                "Activity %(activity)s tags records with contact tags, which %(model)s "
                "records do not have.",
                activity=name,
                model=target,
            )
        list_field = Target is not None and Target._fields.get("list_ids")
        if kind == "mailing_list" and (not list_field or list_field.comodel_name != "mailing.list"):
            return _(
                "Activity %(activity)s adds records to a mailing list: only mailing "
                "contacts are in lists, not %(model)s records.",
                activity=name,
                model=target,
            )
        if kind == "plan_activity" and (Target is None or "activity_ids" not in Target._fields):
            return _(
                "Activity %(activity)s plans an activity: %(model)s records have none.",
                activity=name,
                model=target,
            )
        if kind == "note" and (Target is None or "message_ids" not in Target._fields):
            return _(
                "Activity %(activity)s logs a note: %(model)s records have no chatter.",
                activity=name,
                model=target,
            )
        return None

    def _get_record_step_problem(self):
        """Why this step on the record cannot run on the campaign's target as
        it is set, or None."""
        self.ensure_one()
        if problem := self._get_record_step_target_problem():
            return problem
        target = self.campaign_id.model_id.name
        Target = self.env[self.model_name] if self.model_name in self.env else None
        kind = self.activity_type
        if kind == "tag":
            if not self.tag_ids or len(self.tag_ids) > MAX_STEP_TAGS:
                return _(
                    "Activity %(activity)s needs between 1 and %(max)s tags.",
                    activity=self.name,
                    max=MAX_STEP_TAGS,
                )
        elif kind == "mailing_list":
            if not self.mailing_list_id:
                return _("Activity %(activity)s needs a mailing list.", activity=self.name)
        elif kind == "plan_activity":
            if not self.plan_activity_type_id:
                return _("Activity %(activity)s needs an activity type.", activity=self.name)
            if not 0 <= self.plan_deadline_days <= MAX_INTERVALS["days"]:
                return _(
                    "The deadline of activity %(activity)s must be between 0 and %(max)s days.",
                    activity=self.name,
                    max=MAX_INTERVALS["days"],
                )
            if self.plan_user_type == "user" and not self.plan_user_id:
                return _("Activity %(activity)s needs the user to assign.", activity=self.name)
            if self.plan_user_type == "salesperson":
                user_field = Target._fields.get("user_id")
                if not user_field or user_field.comodel_name != "res.users":
                    return _(
                        "Activity %(activity)s assigns the record's salesperson: %(model)s "
                        "records have none. Choose a user.",
                        activity=self.name,
                        model=target,
                    )
        elif kind == "note":
            if not (self.note_body or "").strip() or len(self.note_body) > MAX_NOTE_LENGTH:
                return _(
                    "The note of activity %(activity)s must have between 1 and %(max)s characters.",
                    activity=self.name,
                    max=MAX_NOTE_LENGTH,
                )
        elif kind == "set_field" and not self._get_set_field():
            return _(
                "Activity %(activity)s must update a plain field of %(model)s that you can "
                "change: text, number, yes/no, choice, date or link (not computed, related "
                "or technical).",
                activity=self.name,
                model=target,
            )
        return None

    # ------------------------------------------------------------
    # TIMING
    # ------------------------------------------------------------

    def _has_send_window(self):
        """Whether the activity runs only in its send window: an A/B split
        sends nothing, its branches have their own."""
        self.ensure_one()
        return self.activity_type != "split" and has_window(
            self.send_hour_from, self.send_hour_to, self.send_weekdays_only
        )

    def _get_next_opening(self, date, zone):
        """``date`` (naive UTC) when this activity's send window is open then
        in ``zone``, else its next opening."""
        self.ensure_one()
        if not self._has_send_window():
            return date
        return next_opening(
            date, zone, self.send_hour_from, self.send_hour_to, self.send_weekdays_only
        )

    def _postpone_outside_window(self, traces):
        """The due traces of this batch outside the send window are re-dated
        to its next opening and left scheduled; return them. A user's Run
        (``action_execute``) runs at once."""
        if self.env.context.get("marketing_run_now") or not self._has_send_window():
            return traces.browse()
        return traces._apply_send_window(self)

    @staticmethod
    def _format_hour(hour, short=False):
        hours, minutes = divmod(round(hour * 60), 60)
        return str(hours) if short and not minutes else f"{hours}:{minutes:02d}"

    def _get_send_window_label(self, short=False):
        """The send window in words: "Weekdays, 9:00–17:00, recipient's local
        time" (short: "Weekdays 9–17"), or None when it is any time."""
        self.ensure_one()
        if not self._has_send_window():
            return None
        hours = None
        if self.send_hour_from or self.send_hour_to:
            start = self._format_hour(self.send_hour_from, short)
            hours = f"{start}–{self._format_hour(self.send_hour_to, short)}"
        if short:
            if self.send_weekdays_only:
                return _("Weekdays %(hours)s", hours=hours) if hours else _("Weekdays")
            return hours
        if self.send_weekdays_only and hours:
            return _("Weekdays, %(hours)s, recipient's local time", hours=hours)
        if self.send_weekdays_only:
            return _("Weekdays, recipient's local time")
        return _("%(hours)s, recipient's local time", hours=hours)

    def _get_date_trigger_label(self, delay):
        """ "3 Days before Event Start", "On Birthday"."""
        self.ensure_one()
        field = self.date_field_id.field_description or _("the date")
        if not self.interval_number:
            return _("On %(field)s", field=field)
        if self.date_offset == "before":
            return _("%(delay)s before %(field)s", delay=delay, field=field)
        return _("%(delay)s after %(field)s", delay=delay, field=field)

    # ------------------------------------------------------------
    # A/B SPLITS AND GOALS
    # ------------------------------------------------------------

    def _is_split_branch(self):
        """Whether this activity is a branch of an A/B split."""
        self.ensure_one()
        return self.parent_id.activity_type == "split" and self.trigger_type == "activity"

    def _get_split_branches(self):
        """The branches of this split, in the order their shares are counted."""
        self.ensure_one()
        return self.child_ids.filtered(lambda a: a.trigger_type == "activity").sorted("id")

    def _get_split_problem(self):
        """Why this split cannot send its participants down a branch, or None."""
        self.ensure_one()
        branches = self._get_split_branches()
        if not branches:
            return _("Not run: the A/B split %(split)s has no branch.", split=self.name)
        if (
            not any(branches.mapped("split_promoted"))
            and sum(branches.mapped("split_weight")) != 100
        ):
            return _(
                "Not run: the shares of the branches of A/B split %(split)s must sum to 100%%.",
                split=self.name,
            )
        return None

    def _check_split_weights(self):
        """The shares of the branches of each split sum to 100 (Start checks it)."""
        for split in self.filtered(lambda a: a.activity_type == "split"):
            branches = split._get_split_branches()
            if not branches:
                raise ValidationError(
                    _(
                        "The A/B split %(split)s has no branch: add the activities it "
                        "chooses between, triggered by it.",
                        split=split.name,
                    )
                )
            if sum(branches.mapped("split_weight")) != 100:
                raise ValidationError(
                    _(
                        "The shares of the branches of A/B split %(split)s sum to "
                        "%(total)s%%: they must sum to 100%%.",
                        split=split.name,
                        total=sum(branches.mapped("split_weight")),
                    )
                )

    def action_promote_branch(self):
        """Send everyone who reaches the split from now on down this branch;
        participants already in another branch stay there. Promoting changes
        what runs: the user becomes the campaign's responsible (or is refused,
        as for any change of the workflow)."""
        self.ensure_one()
        if not self._is_split_branch():
            raise UserError(
                _("Activity %(activity)s is not a branch of an A/B split.", activity=self.name)
            )
        self.check_access("write")
        split = self.parent_id
        (split._get_split_branches() - self).filtered("split_promoted").write(
            {"split_promoted": False}
        )
        self.write({"split_promoted": True})
        split.campaign_id.message_post(
            body=_(
                "Branch %(branch)s of A/B split %(split)s is promoted by %(user)s: every "
                "participant reaching the split from now on goes down this branch.",
                branch=self.name,
                split=split.name,
                user=self.env.user.name,
            )
        )
        return True

    @api.model
    def _split_branch_rows(self, condition):
        """SQL: the branch each split trace matching ``condition`` (SQL on the
        aliases ``trace`` and ``participant``) sends its participant down, as
        rows (participant_id, activity_id, parent_id) for
        ``marketing.trace._schedule``.

        The choice is a hash of the split and the participant (its unicity
        value, else its record) into 100 buckets, cut by the branches' shares
        in the order of their ids: the same participant always lands in the
        same branch of a split, whatever the batch, the worker or the run. A
        promoted branch takes every bucket. One statement whatever the number
        of traces."""
        # a test participant has no unicity value of its own: it takes that of
        # the real participant of its record, so that a test shows the branch
        # the record goes down
        bucket = SQL(
            """
            mod(('x' || left(md5(trace.activity_id::text || ':' || COALESCE(
                'key:' || participant.unique_key,
                'key:' || CASE WHEN participant.is_test THEN (
                    SELECT real.unique_key FROM marketing_participant real
                     WHERE real.campaign_id = participant.campaign_id
                       AND real.res_id = participant.res_id
                       AND real.is_test IS NOT TRUE) END,
                'record:' || participant.res_id::text)), 8))::bit(32)::bigint, 100)
            """
        )
        return SQL(
            """
            SELECT trace.participant_id, branch.id, trace.id
              FROM marketing_trace trace
              JOIN marketing_participant participant ON participant.id = trace.participant_id
              JOIN (
                    SELECT child.id, child.parent_id,
                           CASE WHEN bool_or(child.split_promoted) OVER siblings THEN 0
                                ELSE SUM(child.split_weight) OVER shares - child.split_weight
                           END AS low,
                           CASE WHEN bool_or(child.split_promoted) OVER siblings
                                THEN CASE WHEN child.split_promoted THEN 100 ELSE 0 END
                                ELSE SUM(child.split_weight) OVER shares
                           END AS high
                      FROM marketing_activity child
                      JOIN marketing_activity split ON split.id = child.parent_id
                     WHERE split.activity_type = 'split' AND child.trigger_type = 'activity'
                    WINDOW siblings AS (PARTITION BY child.parent_id),
                           shares AS (PARTITION BY child.parent_id ORDER BY child.id)
                   ) branch ON branch.parent_id = trace.activity_id
             WHERE %(condition)s
               AND branch.low <= %(bucket)s AND %(bucket)s < branch.high
            """,
            condition=condition,
            bucket=bucket,
        )

    def _execute_split(self, traces, now):
        """Assign each participant to one branch: the split trace is processed
        with the branch it chose, and ``_schedule_children`` schedules that
        branch only (the others get no trace for it). The same statement
        records the branch on the participant (``branch_id``, for the reports)."""
        self.env["marketing.trace"].flush_model()
        self.env["marketing.participant"].flush_model(["unique_key", "res_id", "branch_id"])
        self.flush_model()
        rows = self.env.execute_query(
            SQL(
                """
                WITH chosen(participant_id, branch_id, trace_id) AS (%(rows)s),
                assigned AS (
                    UPDATE marketing_participant participant
                       SET branch_id = chosen.branch_id,
                           write_uid = %(uid)s, write_date = %(now)s
                      FROM chosen
                     WHERE participant.id = chosen.participant_id
                )
                SELECT participant_id, branch_id, trace_id FROM chosen
                """,
                rows=self._split_branch_rows(SQL("trace.id IN %s", tuple(traces.ids))),
                uid=self.env.uid,
                now=now,
            )
        )
        self.env["marketing.participant"].invalidate_model(["branch_id", "write_uid", "write_date"])
        branch_by_trace = {trace_id: branch_id for _participant, branch_id, trace_id in rows}
        for branch_id, branch_traces in traces.grouped(lambda t: branch_by_trace.get(t.id)).items():
            message = (
                _lt("Branch: %(branch)s", branch=self.browse(branch_id).name)
                if branch_id
                else False
            )
            branch_traces._set_state("processed", message, now)

    def _skip_goal_reached(self, traces, now):
        """Before any trace of a participant runs, a participant who reached the
        campaign's goal leaves: its scheduled traces are canceled. Return the
        traces that still run."""
        campaign = self.campaign_id
        if not traces or not campaign._has_goal():
            return traces
        reached = campaign._reach_goal(
            now, SQL("participant.id IN %s", tuple(traces.participant_id.ids))
        )
        return traces.filtered(lambda t: t.participant_id not in reached)

    @api.readonly
    def get_split_results(self):
        """The figures of this split's branches side by side, one dict per
        branch: participants sent down it, and among them how many were sent,
        opened, clicked, replied to a message of the branch (or of the
        activities after it) and reached the goal. ``p_value`` is a
        two-proportion z-test of the branch's click rate (goal rate when the
        campaign has a goal) against the best branch's, None while either has
        fewer than ``MIN_SPLIT_PARTICIPANTS`` participants. Test participants
        never count. A few grouped queries per branch, never one per
        participant."""
        self.ensure_one()
        self.check_access("read")
        if self.activity_type != "split":
            raise UserError(_("Activity %(activity)s is not an A/B split.", activity=self.name))
        branches = self._get_split_branches()
        Trace = self.env["marketing.trace"]
        MailingTrace = self.env["mailing.trace"]
        branch_domain = [("activity_id", "in", branches.ids), ("is_test", "=", False)]
        participants = dict(Trace._read_group(branch_domain, ["activity_id"], ["__count"]))
        goals = dict(
            Trace._read_group(
                [*branch_domain, ("participant_id.goal_reached_date", "!=", False)],
                ["activity_id"],
                ["__count"],
            )
        )
        measures = {
            "sent": [("trace_status", "in", SENT_STATUSES)],
            "opened": EVENTS["open"].get_domain(),
            "clicked": EVENTS["click"].get_domain(),
            "replied": EVENTS["reply"].get_domain(),
        }
        metric = "goal_reached" if self.campaign_id._has_goal() else "clicked"
        results = []
        for branch in branches:
            subtree = self.search([("id", "child_of", branch.id)]).ids
            result = {
                "activity_id": branch.id,
                "name": branch.name,
                "split_weight": branch.split_weight,
                "promoted": branch.split_promoted,
                "participants": participants.get(branch, 0),
                "goal_reached": goals.get(branch, 0),
            }
            for measure, domain in measures.items():
                [[count]] = MailingTrace._read_group(
                    [
                        ("marketing_activity_id", "in", subtree),
                        ("marketing_trace_id.is_test", "=", False),
                        *domain,
                    ],
                    [],
                    ["res_id:count_distinct"],
                )
                result[measure] = count
            total = result["participants"]
            for measure in ("opened", "clicked", "replied", "goal_reached"):
                result[f"{measure}_rate"] = (
                    round(100.0 * result[measure] / total, 1) if total else 0.0
                )
            results.append(result)
        enough = [r for r in results if r["participants"] >= MIN_SPLIT_PARTICIPANTS]
        best = max(enough, key=lambda r: r[metric] / r["participants"], default=None)
        for result in results:
            result["best"] = result is best
            result["p_value"] = (
                two_proportion_p_value(
                    result[metric], result["participants"], best[metric], best["participants"]
                )
                if best and result in enough
                else None
            )
        return results

    def _render_split_results(self):
        """``get_split_results`` as an HTML table for the activity form."""
        self.ensure_one()
        results = self.get_split_results()
        has_goal = self.campaign_id._has_goal()
        headers = [
            _("Branch"),
            _("Share"),
            _("Participants"),
            _("Sent"),
            _("Opened"),
            _("Clicked"),
            _("Replied"),
            _("Goal"),
            _("Goal reached") if has_goal else _("Clicked"),
        ]

        def percent(value, digits=1):
            # in the user's language: "66.7%", "66,7%"
            return f"{formatLang(self.env, value, digits=digits)}%"

        rows = []
        for result in results:
            if result["p_value"] is None:
                significance = _("Not enough data yet")
            elif result["best"]:
                significance = _("Best branch")
            else:
                p_value = formatLang(self.env, result["p_value"], digits=3)
                confidence = formatLang(self.env, 100 * (1 - result["p_value"]), digits=0)
                significance = _(
                    "p = %(p_value)s (%(confidence)s%% sure the best is better)",
                    p_value=p_value,
                    confidence=confidence,
                )
            name = result["name"]
            if result["best"]:
                name = Markup("%s <span class='badge text-bg-success'>%s</span>") % (
                    name,
                    _("Best"),
                )
            if result["promoted"]:
                name = Markup("%s <span class='badge text-bg-primary'>%s</span>") % (
                    name,
                    _("Promoted"),
                )
            cells = [
                name,
                percent(result["split_weight"], 0),
                result["participants"],
                result["sent"],
                percent(result["opened_rate"]),
                percent(result["clicked_rate"]),
                percent(result["replied_rate"]),
                percent(result["goal_reached_rate"]) if has_goal else "-",
                significance,
            ]
            rows.append(
                Markup("<tr%s>%s</tr>")
                % (
                    Markup(" class='table-success'") if result["best"] else "",
                    Markup("").join(Markup("<td>%s</td>") % cell for cell in cells),
                )
            )
        headers[-1] = _("Significance (%(metric)s)", metric=headers[-1])
        return Markup(
            "<table class='table table-sm o_marketing_split_results'>"
            "<thead><tr>%s</tr></thead><tbody>%s</tbody></table>"
        ) % (
            Markup("").join(Markup("<th>%s</th>") % header for header in headers),
            Markup("").join(rows),
        )
