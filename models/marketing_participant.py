from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL, create_index

from ..tools.cache import invalidate_dependents


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
    res_id = fields.Many2oneReference("Record ID", model_field="model_name", required=True)
    resource_ref = fields.Reference(
        string="Record",
        selection="_selection_target_model",
        compute="_compute_resource_ref",
    )
    unique_value = fields.Char(
        readonly=True,
        help="The value of the campaign's Unique per field when the record entered.",
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
    trace_ids = fields.One2many("marketing.trace", "participant_id", string="Traces")

    # what the engine decides: set when the participant is created, never rewritten by users
    ENGINE_FIELDS = {"campaign_id", "company_id", "model_name", "res_id", "unique_value", "is_test"}

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
                CREATE UNIQUE INDEX IF NOT EXISTS marketing_participant_unique_value
                    ON marketing_participant (campaign_id, unique_value)
                 WHERE is_test IS NOT TRUE AND unique_value IS NOT NULL;
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

    @api.depends("model_name", "res_id")
    @api.depends_context("uid")
    def _compute_display_name(self):
        """The record's name as the reader may see it: a record he cannot read
        is named as such, never read with more rights than his."""
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

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    def write(self, vals):
        if not self.env.su and self.ENGINE_FIELDS.intersection(vals):
            raise AccessError(
                _(
                    "Participants are enrolled by their campaign: their campaign and record "
                    "cannot be changed."
                )
            )
        return super().write(vals)

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_set_running(self):
        self.filtered(lambda p: p.state == "completed").state = "running"
        return True

    def action_set_completed(self):
        """Stop the participant: its scheduled traces are canceled."""
        self.check_access("write")
        traces = self.trace_ids.filtered(lambda t: t.state == "scheduled")
        traces._set_state("canceled", _("Canceled: the participant was stopped."))
        self.write({"state": "completed"})
        return True

    # ------------------------------------------------------------
    # ENGINE
    # ------------------------------------------------------------

    def _create_root_traces(self, start):
        """Schedule the root activities for new participants, in one INSERT ...
        SELECT whatever their number (see ``marketing.trace._schedule``)."""
        if not self:
            return self.env["marketing.trace"]
        return self.env["marketing.trace"]._schedule(
            SQL(
                """
                SELECT participant.id, activity.id, NULL::integer
                  FROM marketing_participant participant
                  JOIN marketing_activity activity
                    ON activity.campaign_id = participant.campaign_id
                   AND activity.trigger_type = 'begin'
                 WHERE participant.id IN %s
                """,
                tuple(self.ids),
            ),
            start,
        )

    def _action_unlink(self):
        """The record is gone: cancel what was scheduled."""
        traces = self.trace_ids.filtered(lambda t: t.state == "scheduled")
        traces._set_state("canceled", _("Canceled: the record was deleted."))
        self.write({"state": "unlinked"})

    def _update_completion(self):
        """Running participants with nothing scheduled (nor waiting for an
        event) are completed."""
        if self:
            self._complete_where(SQL("participant.id IN %s", tuple(self.ids)))

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
