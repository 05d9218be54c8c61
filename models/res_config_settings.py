from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    marketing_email_cap = fields.Integer(related="company_id.marketing_email_cap", readonly=False)
    marketing_email_cap_days = fields.Integer(
        related="company_id.marketing_email_cap_days", readonly=False
    )
    marketing_sms_cap = fields.Integer(related="company_id.marketing_sms_cap", readonly=False)
    marketing_sms_cap_days = fields.Integer(
        related="company_id.marketing_sms_cap_days", readonly=False
    )
