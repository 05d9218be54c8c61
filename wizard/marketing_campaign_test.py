from odoo import _, api, fields, models
from odoo.exceptions import UserError


class MarketingCampaignTest(models.TransientModel):
    """Launch a campaign on one record to try its workflow step by step."""

    _name = "marketing.campaign.test"
    _description = "Marketing Campaign: Launch a Test"

    campaign_id = fields.Many2one("marketing.campaign", required=True, ondelete="cascade")
    model_id = fields.Many2one(related="campaign_id.model_id")
    model_name = fields.Char(related="campaign_id.model_name")
    res_id = fields.Many2oneReference("Record ID", model_field="model_name")
    resource_ref = fields.Reference(
        string="Record",
        selection="_selection_target_model",
        compute="_compute_resource_ref",
        inverse="_inverse_resource_ref",
        readonly=False,
    )

    @api.model
    def _selection_target_model(self):
        return [(model.model, model.name) for model in self.env["ir.model"].search([])]

    @api.depends("model_name", "res_id")
    def _compute_resource_ref(self):
        for wizard in self:
            if wizard.model_name and wizard.model_name in self.env:
                wizard.resource_ref = f"{wizard.model_name},{wizard.res_id or 0}"
            else:
                wizard.resource_ref = False

    def _inverse_resource_ref(self):
        for wizard in self:
            wizard.res_id = wizard.resource_ref.id if wizard.resource_ref else False

    def action_launch_test(self):
        """Create a test participant with its root traces and open it."""
        self.ensure_one()
        campaign = self.campaign_id
        if not self.res_id:
            raise UserError(_("Choose the record to test the campaign with."))
        if not campaign.marketing_activity_ids:
            raise UserError(_("Add at least one activity before testing the campaign."))
        record = (
            self.env[campaign.model_name]
            .with_context(allowed_company_ids=campaign.company_id.ids)
            .browse(self.res_id)
        )
        if not record.exists():
            raise UserError(_("The record to test the campaign with no longer exists."))
        if not record.has_access("read"):
            raise UserError(
                _(
                    "You cannot test the campaign on this record: you cannot read it in the "
                    "company of the campaign."
                )
            )
        campaign.check_access("write")
        campaign._take_responsibility()
        # sudo: participants are created by the engine and this wizard only, never
        # by users (their ACL has no create); the record was checked readable above
        participant = (
            self.env["marketing.participant"]
            .sudo()
            .create({"campaign_id": campaign.id, "res_id": self.res_id, "is_test": True})
        )
        participant._create_root_traces(fields.Datetime.now())
        participant = participant.with_env(self.env)
        return {
            "type": "ir.actions.act_window",
            "name": _("Launch a Test"),
            "res_model": "marketing.participant",
            "res_id": participant.id,
            "view_mode": "form",
            "target": "current",
        }
