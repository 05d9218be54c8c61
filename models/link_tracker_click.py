from odoo import fields, models


class LinkTrackerClick(models.Model):
    _inherit = "link.tracker.click"

    marketing_activity_id = fields.Many2one(
        related="mailing_trace_id.marketing_activity_id",
        string="Marketing Activity",
        store=True,
        index="btree_not_null",
    )
    marketing_campaign_id = fields.Many2one(
        related="marketing_activity_id.campaign_id",
        string="Marketing Campaign",
        store=True,
        index="btree_not_null",
    )
