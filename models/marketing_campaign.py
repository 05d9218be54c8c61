import logging
import threading
from datetime import datetime, time, timedelta

import pytz
from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools.safe_eval import datetime as safe_datetime
from odoo.tools.safe_eval import safe_eval

_logger = logging.getLogger(__name__)


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
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "create_date DESC, id DESC"
    _check_company_auto = True

    def _default_model_id(self):
        return self.env["ir.model"]._get("res.partner")

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True)
    state = fields.Selection(
        [("draft", "New"), ("running", "Running"), ("stopped", "Stopped")],
        default="draft",
        required=True,
        copy=False,
        tracking=True,
        index=True,
    )
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        tracking=True,
        help="Participants are enrolled and activities run with the access rights of this user.",
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
        domain="[('transient', '=', False), ('model', 'not like', 'ir.%')]",
        tracking=True,
        help="The model whose records become participants of the campaign.",
    )
    model_name = fields.Char(
        string="Target Model", related="model_id.model", store=True, readonly=True
    )
    domain = fields.Char(
        "Filter",
        default="[]",
        required=True,
        help="Only records matching this filter are enrolled, and every activity re-checks it.",
    )
    include_archived = fields.Boolean(
        "Include archived", help="Also target archived records of the target model."
    )
    unique_field_id = fields.Many2one(
        "ir.model.fields",
        string="Unicity based on",
        ondelete="set null",
        domain="[('model_id', '=', model_id), ('store', '=', True), "
        "('ttype', 'in', ('char', 'integer', 'many2one', 'selection'))]",
        help="At most one participant per value of this field (e.g. the email). "
        "Records with an empty value are deduplicated on the record itself.",
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
    require_sync = fields.Boolean(
        "Workflow modified",
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

    @api.constrains("domain", "model_id")
    def _check_domain(self):
        for campaign in self:
            campaign._parse_domain(campaign.domain)

    @api.constrains("unique_field_id", "model_id")
    def _check_unique_field(self):
        for campaign in self:
            if campaign.unique_field_id and campaign.unique_field_id.model_id != campaign.model_id:
                raise ValidationError(
                    _(
                        "The unicity field %(field)s must be a field of the target model "
                        "%(model)s.",
                        field=campaign.unique_field_id.field_description,
                        model=campaign.model_id.name,
                    )
                )

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        self._check_responsible_assignment(vals_list)
        utm_vals = [
            {"name": vals["name"], "is_auto_campaign": True}
            for vals in vals_list
            if not vals.get("utm_campaign_id") and vals.get("name")
        ]
        utm_campaigns = iter(self.env["utm.campaign"].create(utm_vals))
        for vals in vals_list:
            if not vals.get("utm_campaign_id") and vals.get("name"):
                vals["utm_campaign_id"] = next(utm_campaigns).id
        return super().create(vals_list)

    def write(self, vals):
        self._check_responsible_assignment([vals])
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
        return super().write(vals)

    @api.model
    def _check_responsible_assignment(self, vals_list):
        """Participants are enrolled and server actions run with the rights of
        the responsible: only managers may make someone else responsible."""
        if self.env.su or self.env.user.has_group(
            "marketing_automation_community.group_marketing_automation_manager"
        ):
            return
        assigned = {vals["user_id"] for vals in vals_list if vals.get("user_id")}
        if assigned - {self.env.uid}:
            raise AccessError(
                _(
                    "Only Marketing Automation administrators can make another user "
                    "responsible of a campaign: its participants are enrolled and its "
                    "actions run with the rights of its responsible."
                )
            )

    def copy(self, default=None):
        """Duplicate the workflow tree with the campaign."""
        new_campaigns = super().copy(default=default)
        for campaign, new_campaign in zip(self, new_campaigns, strict=True):
            campaign.marketing_activity_ids.filtered(lambda a: not a.parent_id)._copy_tree(
                new_campaign
            )
        return new_campaigns

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        return [
            dict(vals, name=_("%(name)s (copy)", name=campaign.name))
            for campaign, vals in zip(self, vals_list, strict=True)
        ]

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_start_campaign(self):
        """Start (or restart) the campaigns: enrolment and execution run from now on.
        Restarting a modified campaign from the form (after its confirmation)
        updates its participants first."""
        if any(not campaign.marketing_activity_ids for campaign in self):
            raise UserError(_("You must add at least one activity before starting a campaign."))
        self.write({"state": "running"})
        if self.env.context.get("marketing_automation_update_participants"):
            self.filtered("require_sync").action_update_participants()
        self._trigger_cron()
        return True

    def action_stop_campaign(self):
        """Stop enrolment and execution; scheduled traces wait for the next start."""
        self.write({"state": "stopped"})
        return True

    def action_update_participants(self):
        """Apply workflow changes to the existing (non-test) participants.

        Running and completed participants get the traces of the root activities
        they do not have yet, and of the children whose parent trace is already
        processed (scheduled as if the parent had just run). Completed
        participants that receive new traces run again. Existing traces are left
        untouched.
        """
        Trace = self.env["marketing.trace"]
        now = fields.Datetime.now()
        for campaign in self:
            participants = campaign.participant_ids.filtered(
                lambda p: not p.is_test and p.state in ("running", "completed")
            )
            existing = {
                (trace.participant_id.id, trace.activity_id.id, trace.parent_id.id)
                for trace in participants.trace_ids
            }
            vals_list = []
            for activity in campaign.marketing_activity_ids.filtered(
                lambda a: a.trigger_type == "begin"
            ):
                vals_list += [
                    activity._prepare_trace_values(participant, now)
                    for participant in participants
                    if (participant.id, activity.id, False) not in existing
                ]
            parent_traces = participants.trace_ids.filtered(lambda t: t.state == "processed")
            for parent_trace in parent_traces:
                for child in parent_trace.activity_id.child_ids:
                    key = (parent_trace.participant_id.id, child.id, parent_trace.id)
                    if key not in existing:
                        vals_list.append(
                            child._prepare_trace_values(
                                parent_trace.participant_id, now, parent_trace=parent_trace
                            )
                        )
            new_traces = Trace.create(vals_list)
            new_traces.participant_id.filtered(lambda p: p.state == "completed").write(
                {"state": "running"}
            )
            # events that already happened on a parent's message apply to its new children
            for event in ("open", "reply", "click", "bounce"):
                new_traces.parent_id._filter_event(event)._process_event(event, now)
        self.write({"require_sync": False})
        self._trigger_cron()
        return True

    def action_save_as_favorite_filter(self):
        self.ensure_one()
        if self.domain in (False, "", "[]"):
            raise UserError(_("Add at least one rule to the filter before saving it."))
        self.env["marketing.favorite.filter"].create(
            {"name": self.name, "model_id": self.model_id.id, "domain": self.domain}
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _("The filter was saved as a favorite filter."),
                "next": {"type": "ir.actions.act_window_close"},
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

    def action_view_test_participants(self):
        action = self.action_view_participants()
        action["domain"] = [("campaign_id", "=", self.id), ("is_test", "=", True)]
        return action

    # ------------------------------------------------------------
    # TOOLS
    # ------------------------------------------------------------

    def _get_domain_eval_context(self):
        return dict(
            self.env["ir.rule"]._eval_context(),
            uid=self.env.uid,
            datetime=safe_datetime,
            relativedelta=relativedelta,
            context_today=lambda: fields.Date.context_today(self),
        )

    def _parse_domain(self, domain, model_name=None):
        """Evaluate a filter of the campaign and check it against the target
        model; raise a ValidationError when it cannot be used."""
        self.ensure_one()
        model_name = model_name or self.model_name
        try:
            parsed = safe_eval(domain or "[]", self._get_domain_eval_context())
            parsed = expression.normalize_domain(parsed)
            self.env[model_name]._search(parsed)
        except Exception as error:  # noqa: BLE001 - any parse or field error is a bad filter
            raise ValidationError(
                _(
                    "The filter %(domain)s is not valid for %(model)s: %(error)s",
                    domain=domain,
                    model=self.model_id.name or model_name,
                    error=error,
                )
            ) from error
        return parsed

    def _get_target_records(self):
        """The target model with the campaign user's rights (record rules), in
        the campaign's company only (not the companies active for the caller)."""
        self.ensure_one()
        return (
            self.env[self.model_name]
            .with_user(self.user_id or self.env.user)
            .with_context(
                allowed_company_ids=self.company_id.ids, active_test=not self.include_archived
            )
        )

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

    @api.model
    def _trigger_cron(self, at=None):
        self.env.ref("marketing_automation_community.ir_cron_marketing_automation")._trigger(at)

    # ------------------------------------------------------------
    # ENGINE
    # ------------------------------------------------------------

    def sync_participants(self):
        """Enrol new matching records and unlink participants whose record is gone.

        Set-based: one INSERT ... SELECT per campaign creates the participants
        (deduplicated on the unicity field, honouring the user's record rules and
        *Include archived*), one more creates their root traces.
        """
        now = fields.Datetime.now()
        for campaign in self.filtered(lambda c: c.marketing_activity_ids):
            campaign._unlink_gone_participants()
            campaign._enrol_new_participants(now)
            campaign.last_sync_date = now
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
            gone._action_unlink()

    def _enrol_new_participants(self, now):
        self.ensure_one()
        records = self._get_target_records()
        query = records._search(self._get_applied_domain())
        if query.is_empty():
            return []
        field = records._fields.get(self.unique_field_id.name or "id")
        if self.unique_field_id and field.store and field.column_type:
            value_sql = SQL(
                "NULLIF(lower(btrim(%s::text, E' \\t\\n\\r')), '')",
                SQL.identifier(query.table, field.name),
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
                    campaign_id, company_id, model_name, res_id, unique_value, state, is_test,
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
                                        OR existing.unique_value = target.unique_value))
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
        """Run every due trace of the campaigns, batch after batch."""
        return self.env["marketing.trace"]._execute_due_traces(campaigns=self)

    @api.model
    def _cron_process_campaigns(self):
        """Scheduler: enrol then execute, for running campaigns only. One call
        runs a bounded number of batches; the cron runner calls again while due
        traces remain (see ``ir.cron._notify_progress``)."""
        campaigns = self.search([("state", "=", "running")])
        auto_commit = not getattr(threading.current_thread(), "testing", False)
        for campaign in campaigns:
            try:
                campaign.sync_participants()
            except Exception:
                if not auto_commit:
                    raise
                self.env.cr.rollback()
                _logger.exception("Marketing campaign %s: enrolment failed", campaign.id)
                continue
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        self.env["marketing.trace"]._execute_due_traces(
            campaigns=campaigns,
            auto_commit=auto_commit,
            max_batches=self.env["marketing.trace"]._get_scheduler_setting("cron_max_batches", 10),
        )
        self.env["marketing.trace"]._schedule_next_cron(campaigns)

    # ------------------------------------------------------------
    # WORKFLOW EDITOR
    # ------------------------------------------------------------

    METRICS_DAYS = 15

    @api.readonly
    def get_workflow_metrics(self):
        """The figures of the workflow editor's blocks, by activity id.

        One grouped query per measure for the whole campaign (trace states,
        the daily series, the mailing statistics), whatever the number of
        activities; test participants never count, except in ``trace_count``
        (every trace a deletion would remove). Days are those of the user's
        time zone, the last ``METRICS_DAYS`` up to today.
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

        def empty_metrics():
            return {
                "trace_count": 0,
                "processed": 0,
                "rejected": 0,
                "scheduled": 0,
                "canceled": 0,
                "error": 0,
                "series": {
                    "days": [fields.Date.to_string(day) for day in days],
                    "processed": [0] * len(days),
                    "rejected": [0] * len(days),
                },
                "sent": 0,
                "open": 0,
                "reply": 0,
                "click": 0,
                "bounce": 0,
            }

        metrics = {activity.id: empty_metrics() for activity in self.marketing_activity_ids}
        Trace = self.env["marketing.trace"]
        for activity, state, is_test, count in Trace._read_group(
            [("campaign_id", "=", self.id)], ["activity_id", "state", "is_test"], ["__count"]
        ):
            activity_metrics = metrics.setdefault(activity.id, empty_metrics())
            activity_metrics["trace_count"] += count
            if not is_test:
                activity_metrics[state] += count
        day_index = {day: index for index, day in enumerate(days)}
        for activity, state, day, count in Trace._read_group(
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
        for activity, status, count, clicked in self.env["mailing.trace"]._read_group(
            [
                ("marketing_trace_id.campaign_id", "=", self.id),
                ("marketing_trace_id.is_test", "=", False),
            ],
            ["marketing_activity_id", "trace_status"],
            ["__count", "links_click_datetime:count"],
        ):
            activity_metrics = metrics.setdefault(activity.id, empty_metrics())
            if status in ("pending", "sent", "open", "reply", "bounce"):
                activity_metrics["sent"] += count
            if status in ("open", "reply"):
                activity_metrics["open"] += count
            if status == "reply":
                activity_metrics["reply"] += count
            if status == "bounce":
                activity_metrics["bounce"] += count
            activity_metrics["click"] += clicked
        for activity_metrics in metrics.values():
            sent = activity_metrics["sent"]
            for measure in ("open", "reply", "click", "bounce"):
                activity_metrics[f"{measure}_ratio"] = (
                    round(100.0 * activity_metrics[measure] / sent, 1) if sent else 0.0
                )
        return metrics
