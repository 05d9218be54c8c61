from odoo import api, fields, models


class MarketingFavoriteFilter(models.Model):
    """A campaign filter saved to be reused on campaigns of the same target."""

    _name = "marketing.favorite.filter"
    _description = "Marketing Automation Favorite Filter"
    _order = "name, id"

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    model_id = fields.Many2one("ir.model", string="Target", required=True, ondelete="cascade")
    model_name = fields.Char(related="model_id.model", string="Target Model", store=True)
    domain = fields.Char("Filter", required=True, default="[]")
    description = fields.Text()

    @api.constrains("domain", "model_id")
    def _check_domain(self):
        campaign = self.env["marketing.campaign"]
        for favorite in self:
            campaign.new({"model_id": favorite.model_id.id})._parse_domain(
                favorite.domain, favorite.model_name
            )
