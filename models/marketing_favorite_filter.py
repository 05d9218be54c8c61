from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class MarketingFavoriteFilter(models.Model):
    """A campaign filter saved to be reused on campaigns of the same target."""

    _name = "marketing.favorite.filter"
    _description = "Marketing Automation Favorite Filter"
    _inherit = ["marketing.filter.mixin"]
    _order = "name, id"
    _check_company_auto = True

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    model_id = fields.Many2one("ir.model", string="Target", required=True, ondelete="cascade")
    model_name = fields.Char(related="model_id.model", string="Target Model", store=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    description = fields.Text()
    domain_description = fields.Char("Filter in Words", compute="_compute_domain_description")

    @api.depends("domain", "model_id")
    @api.depends_context("lang")
    def _compute_domain_description(self):
        for favorite in self:
            favorite.domain_description = favorite._describe_domain(favorite.domain)

    @api.constrains("domain", "model_id")
    def _check_domain(self):
        allowed = self.env["marketing.campaign"]._get_allowed_target_models()
        for favorite in self:
            if favorite.model_id not in allowed:
                raise ValidationError(
                    _(
                        "A favorite filter is for the targets of campaigns; %(model)s is not one.",
                        model=favorite.model_id.name,
                    )
                )
            favorite._parse_domain(favorite.domain)
