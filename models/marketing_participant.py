from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.osv import expression
from odoo.tools import SQL, create_index
from odoo.tools.translate import LazyTranslate

from ..tools.cache import invalidate_dependents
from ..tools.triggers import ROOT_TRIGGERS

_lt = LazyTranslate(__name__)


class MarketingParticipant(models.Model):
    """A record of the campaign's target model walking through its workflow."""

    _name = "marketing.participant"
    _description = "Marketing Automation Participant"
    _order = "id DESC"
    _rec_names_search = ["unique_value", "campaign_id.name"]

    campaign_id = fields.Many2one(
        "marketing.campaign", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="campaign_id.company_id", store=True, index=True)
    model_id = fields.Many2one(related="campaign_id.model_id", string="Target")
    model_name = fields.Char(
        related="campaign_id.model_name", store=True, string="Target Model", precompute=True
    )
    res_id = fields.Many2oneReference("Target Record ID", model_field="model_name", required=True)
    resource_ref = fields.Reference(
        string="Record",
        selection="_selection_target_model",
        compute="_compute_resource_ref",
    )
    # the engine's value, compared in SQL; users read it through unique_value
    unique_key = fields.Char(
        readonly=True,
        groups="base.group_system",
        help="The value of the campaign's Unique per field when the record entered.",
    )
    unique_value = fields.Char(
        compute="_compute_unique_value",
        search="_search_unique_value",
        help="The value of the campaign's Unique per field when the record entered, shown "
        "to the users who can read the record.",
    )
    start_date = fields.Datetime(
        "Joined On", default=fields.Datetime.now, required=True, readonly=True
    )
    state = fields.Selection(
        [("running", "Running"), ("completed", "Completed"), ("unlinked", "Removed")],
        default="running",
        required=True,
        index=True,
        help="Completed: nothing is left to run. Removed: the record was deleted.",
    )
    is_test = fields.Boolean("Test Record", default=False, index=True)
    goal_reached_date = fields.Datetime(
        "Goal Reached On",
        readonly=True,
        copy=False,
        help="When the record matched the goal of the campaign: its journey ended there.",
    )
    goal_reached = fields.Boolean(
        compute="_compute_goal_reached",
        search="_search_goal_reached",
        help="Whether the record matched the goal of the campaign (reports group by it).",
    )
    goal_reached_count = fields.Integer(
        "Goals Reached",
        compute="_compute_goal_reached",
        aggregator="sum",
        help="1 when the participant reached the goal: the reports' measure of conversion.",
    )
    record_count = fields.Integer(
        "Record ID",
        compute="_compute_record_count",
        aggregator="count_distinct",
        help="The number of distinct records among the participants (the reports' measure).",
    )
    branch_id = fields.Many2one(
        "marketing.activity",
        string="A/B Branch",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
        help="The branch of an A/B split the participant went down (of the last split it reached).",
    )
    trace_ids = fields.One2many("marketing.trace", "participant_id", string="Traces")

    # what the engine decides: set when the participant is created, never rewritten by
    # users; the state changes through the engine and the Stop and Resume buttons
    ENGINE_FIELDS = {
        "campaign_id",
        "company_id",
        "model_name",
        "res_id",
        "unique_key",
        "unique_value",
        "is_test",
        "state",
        "goal_reached_date",
        "goal_reached",
        "goal_reached_count",
        "branch_id",
    }

    def init(self):
        create_index(
            self.env.cr,
            "marketing_participant_campaign_res_id_index",
            self._table,
            ["campaign_id", "res_id"],
        )
        # at most one real participant per record and per unicity value, even
        # when two scheduler runs enrol at the same time
        self.env.cr.execute(
            SQL(
                """
                CREATE UNIQUE INDEX IF NOT EXISTS marketing_participant_unique_record
                    ON marketing_participant (campaign_id, res_id) WHERE is_test IS NOT TRUE;
                CREATE UNIQUE INDEX IF NOT EXISTS marketing_participant_unique_key
                    ON marketing_participant (campaign_id, unique_key)
                 WHERE is_test IS NOT TRUE AND unique_key IS NOT NULL;
                """
            )
        )

    @api.model
    def _selection_target_model(self):
        return [(model.model, model.name) for model in self.env["ir.model"].search([])]

    @api.depends("model_name", "res_id")
    def _compute_resource_ref(self):
        for participant in self:
            if participant.model_name and participant.model_name in self.env and participant.res_id:
                participant.resource_ref = f"{participant.model_name},{participant.res_id}"
            else:
                participant.resource_ref = False

    @api.depends("goal_reached_date")
    def _compute_goal_reached(self):
        for participant in self:
            participant.goal_reached = bool(participant.goal_reached_date)
            participant.goal_reached_count = int(participant.goal_reached)

    def _compute_record_count(self):
        self.record_count = 1

    def _search_goal_reached(self, operator, value):
        if operator not in ("=", "!="):
            raise UserError(_("Search the participants who reached the goal with = or !=."))
        reached = (operator == "=") == bool(value)
        return [("goal_reached_date", "!=" if reached else "=", False)]

    def _field_to_sql(self, alias, fname, query=None, flush=True):
        """The goal fields read in SQL, so that the reports group and sum
        them: reached when ``goal_reached_date`` is set; the record count
        counts the distinct records."""
        if fname in ("goal_reached", "goal_reached_count"):
            reached = SQL(
                "(%s IS NOT NULL)",
                super()._field_to_sql(alias, "goal_reached_date", query, flush),
            )
            return reached if fname == "goal_reached" else SQL("%s::integer", reached)
        if fname == "record_count":
            # a record is its model and id: records of two targets are not the same
            return SQL(
                "(%s || ',' || %s)",
                super()._field_to_sql(alias, "model_name", query, flush),
                super()._field_to_sql(alias, "res_id", query, flush),
            )
        return super()._field_to_sql(alias, fname, query, flush)

    @api.depends("unique_key", "model_name", "res_id")
    @api.depends_context("uid", "allowed_company_ids")
    def _compute_unique_value(self):
        """The unicity value is the record's data: shown only to a reader of
        the record, as its name is."""
        readable = self._get_readable_res_ids()
        for participant in self:
            if participant.res_id in readable.get(participant.model_name, ()):
                # sudo: the engine's copy of a value of a record the reader can read
                participant.unique_value = participant.sudo().unique_key
            else:
                participant.unique_value = False

    def _search_unique_value(self, operator, value):
        # sudo: the participants whose value matches, kept below only when the
        # user can read their record
        matching = self.sudo()._search([("unique_key", operator, value)])
        return expression.AND([[("id", "in", matching)], self._get_readable_record_domain()])

    @api.depends("model_name", "res_id")
    @api.depends_context("uid")
    def _compute_display_name(self):
        """The record's name as the reader may see it: a record the reader
        cannot read is named as such, never read with more rights than theirs."""
        readable = {}
        for model_name, participants in self.grouped("model_name").items():
            if model_name not in self.env:
                continue
            records = self.env[model_name].browse(participants.mapped("res_id")).exists()
            readable[model_name] = {
                record.id: record.display_name for record in records._filtered_access("read")
            }
            readable[model_name].update(
                dict.fromkeys((records - records._filtered_access("read")).ids)
            )
        for participant in self:
            names = readable.get(participant.model_name, {})
            if participant.res_id not in names:
                participant.display_name = _("Deleted record")
            elif names[participant.res_id] is None:
                participant.display_name = _("Restricted record")
            else:
                participant.display_name = names[participant.res_id]

    def _get_readable_res_ids(self):
        """The ids of the records of these participants that the current user
        can read, by model: one search per target model."""
        readable = {}
        for model_name, participants in self.grouped("model_name").items():
            if model_name not in self.env:
                continue
            records = self.env[model_name].with_context(active_test=False)
            readable[model_name] = (
                set(records._search([("id", "in", participants.mapped("res_id"))]))
                if records.has_access("read")
                else set()
            )
        return readable

    @api.model
    def _get_readable_record_domain(self):
        """The participants whose record the current user can read: one
        sub-query per target model of the campaigns."""
        # sudo: only which models the campaigns target
        model_names = [
            model_name
            for [model_name] in self.env["marketing.campaign"]
            .sudo()
            .with_context(active_test=False)
            ._read_group([], ["model_name"])
        ]
        domains = []
        for model_name in model_names:
            if model_name not in self.env:
                continue
            records = self.env[model_name].with_context(active_test=False)
            if records.has_access("read"):
                domains.append(
                    [("model_name", "=", model_name), ("res_id", "in", records._search([]))]
                )
        return expression.OR(domains) if domains else expression.FALSE_DOMAIN

    @api.model
    def _get_view(self, view_id=None, view_type="form", **options):
        """The search view has a filter per figure of the workflow's blocks
        (used by the blocks' drill-downs)."""
        arch, view = super()._get_view(view_id, view_type, **options)
        if view_type == "search":
            self.env["marketing.activity"]._add_measure_filters(arch, self._name)
        return arch, view

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    def write(self, vals):
        if not self.env.su and self.ENGINE_FIELDS.intersection(vals):
            raise AccessError(
                _(
                    "Participants are enrolled and run by their campaign: their campaign, "
                    "record and state cannot be changed (use Stop and Resume)."
                )
            )
        return super().write(vals)

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_set_running(self):
        self.check_access("write")
        # sudo: the state is the engine's; the user may write these participants
        self.filtered(lambda p: p.state == "completed").sudo().state = "running"
        return True

    def action_set_completed(self):
        """Stop the participant: its scheduled traces are canceled."""
        self.check_access("write")
        traces = self.trace_ids.filtered(lambda t: t.state == "scheduled")
        traces._set_state("canceled", _lt("Canceled: the participant was stopped."))
        # sudo: the state is the engine's; the user may write these participants
        self.sudo().write({"state": "completed"})
        return True

    # ------------------------------------------------------------
    # ENGINE
    # ------------------------------------------------------------

    def _create_root_traces(self, start):
        """Schedule the root activities of these participants (enrolment, a
        test), in one INSERT ... SELECT whatever their number."""
        if not self:
            return self.env["marketing.trace"]
        return self.env["marketing.trace"]._schedule(
            self._missing_root_trace_rows(
                # one array literal, not a list of as many parameters as participants
                # (which PostgreSQL parses and plans one by one)
                SQL("participant.id = ANY(%s::integer[])", "{" + ",".join(map(str, self.ids)) + "}")
            ),
            start,
        )

    @api.model
    def _missing_root_trace_rows(self, participant_condition):
        """Which root traces to create, for enrolment, a test and *Update*
        alike: for each participant matching ``participant_condition`` (SQL on
        the alias ``participant``), each root activity of its campaign it has
        no root trace of yet. Rows as ``marketing.trace._schedule`` reads them."""
        return SQL(
            """
            SELECT participant.id, activity.id, NULL::integer
              FROM marketing_participant participant
              JOIN marketing_activity activity
                ON activity.campaign_id = participant.campaign_id
               AND activity.trigger_type IN %(roots)s
             WHERE %(participant_condition)s
               AND NOT EXISTS (
                    SELECT 1 FROM marketing_trace trace
                     WHERE trace.participant_id = participant.id
                       AND trace.activity_id = activity.id
                       AND trace.parent_id IS NULL)
            """,
            roots=ROOT_TRIGGERS,
            participant_condition=participant_condition,
        )

    def _mark_unlinked(self):
        """The record is gone: cancel what was scheduled."""
        traces = self.trace_ids.filtered(lambda t: t.state == "scheduled")
        traces._set_state("canceled", _lt("Canceled: the record was deleted."))
        # sudo: the engine's bookkeeping, the record is gone
        self.sudo().write({"state": "unlinked"})

    @api.model
    def _complete_where(self, condition):
        """Complete the running participants matching ``condition`` (SQL on
        the alias ``participant``) that have nothing scheduled: one UPDATE
        whatever their number."""
        self.env["marketing.trace"].flush_model(["participant_id", "state"])
        self.flush_model(["state"])
        self.env.cr.execute(
            SQL(
                """
                UPDATE marketing_participant participant
                   SET state = 'completed', write_uid = %(uid)s, write_date = %(now)s
                 WHERE %(condition)s
                   AND participant.state = 'running'
                   AND NOT EXISTS (
                        SELECT 1 FROM marketing_trace trace
                         WHERE trace.participant_id = participant.id
                           AND trace.state = 'scheduled')
             RETURNING participant.id
                """,
                condition=condition,
                uid=self.env.uid,
                now=fields.Datetime.now(),
            )
        )
        completed = self.browse(row[0] for row in self.env.cr.fetchall())
        if completed:
            completed.invalidate_recordset(["state", "write_uid", "write_date"])
            invalidate_dependents(self, ["state"])
