from odoo import models


class LinkTrackerClick(models.Model):
    _inherit = "link.tracker.click"

    def _prepare_click_values_from_route(self, **route_values):
        """A click on a campaign message counts for it only on a link of its
        mailing: another mailing's link code with the message's id is a
        click on that link alone."""
        click_values = super()._prepare_click_values_from_route(**route_values)
        if click_values.get("mailing_trace_id"):
            # sudo: clicks come from the public routes; only their message and link are read
            trace = self.env["mailing.trace"].sudo().browse(click_values["mailing_trace_id"])
            link = self.env["link.tracker"].sudo().browse(click_values["link_id"])
            if trace.marketing_trace_id and link.mass_mailing_id != trace.mass_mailing_id:
                click_values.update(
                    mailing_trace_id=False,
                    mass_mailing_id=link.mass_mailing_id.id,
                    campaign_id=link.campaign_id.id,
                )
        return click_values
