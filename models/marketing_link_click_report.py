from odoo import fields, models, tools
from odoo.tools import SQL


class MarketingLinkClickReport(models.Model):
    """The clicks on the links of campaign mailings, with their campaign and
    activity: a view over Odoo's link clicks, so the clicks themselves are
    left untouched."""

    _name = "marketing.link.click.report"
    _description = "Marketing Automation Link Clicks"
    _auto = False
    _order = "click_date DESC"
    _rec_name = "url"

    click_date = fields.Datetime("Clicked On", readonly=True)
    link_id = fields.Many2one("link.tracker", readonly=True)
    url = fields.Char("URL", readonly=True)
    country_id = fields.Many2one("res.country", readonly=True)
    campaign_id = fields.Many2one("marketing.campaign", readonly=True)
    activity_id = fields.Many2one("marketing.activity", readonly=True)
    participant_id = fields.Many2one("marketing.participant", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    is_test = fields.Boolean("Test", readonly=True)
    click_count = fields.Integer("Number of Clicks", readonly=True)

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE OR REPLACE VIEW %s AS (
                    SELECT click.id,
                           click.create_date AS click_date,
                           click.link_id,
                           link.url,
                           click.country_id,
                           trace.campaign_id,
                           trace.activity_id,
                           trace.participant_id,
                           trace.company_id,
                           trace.is_test,
                           1 AS click_count
                      FROM link_tracker_click click
                      JOIN link_tracker link ON link.id = click.link_id
                      JOIN mailing_trace mailing_trace ON mailing_trace.id = click.mailing_trace_id
                      JOIN marketing_trace trace ON trace.id = mailing_trace.marketing_trace_id
                )
                """,
                SQL.identifier(self._table),
            )
        )
