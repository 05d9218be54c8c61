from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

# a cap (email or SMS) beyond these is no cap: bounded so that counting stays cheap
MAX_EMAIL_CAP = 1000
MAX_EMAIL_CAP_DAYS = 365


class ResCompany(models.Model):
    _inherit = "res.company"

    marketing_email_cap = fields.Integer(
        "Campaign Emails per Address",
        default=0,
        help="At most this many campaign emails of the company to one email address within "
        "the period, across all campaigns (0: no limit). An email over the limit is "
        "postponed, not dropped.",
    )
    marketing_email_cap_days = fields.Integer(
        "Campaign Email Period (Days)",
        default=7,
        help="The number of days over which the campaign emails to one address are counted.",
    )

    marketing_sms_cap = fields.Integer(
        "Campaign SMS per Number",
        default=0,
        help="At most this many campaign SMS of the company to one phone number within the "
        "period, across all campaigns (0: no limit). An SMS over the limit is postponed, "
        "not dropped.",
    )
    marketing_sms_cap_days = fields.Integer(
        "Campaign SMS Period (Days)",
        default=7,
        help="The number of days over which the campaign SMS to one phone number are counted.",
    )

    @api.constrains(
        "marketing_email_cap",
        "marketing_email_cap_days",
        "marketing_sms_cap",
        "marketing_sms_cap_days",
    )
    def _check_marketing_caps(self):
        for company in self:
            if not 0 <= company.marketing_email_cap <= MAX_EMAIL_CAP:
                raise ValidationError(
                    _(
                        "The number of campaign emails per address must be between 0 (no "
                        "limit) and %(max)s.",
                        max=MAX_EMAIL_CAP,
                    )
                )
            if not 1 <= company.marketing_email_cap_days <= MAX_EMAIL_CAP_DAYS:
                raise ValidationError(
                    _(
                        "The period of the campaign email limit must be between 1 and %(max)s "
                        "days.",
                        max=MAX_EMAIL_CAP_DAYS,
                    )
                )
            if not 0 <= company.marketing_sms_cap <= MAX_EMAIL_CAP:
                raise ValidationError(
                    _(
                        "The number of campaign SMS per phone number must be between 0 (no "
                        "limit) and %(max)s.",
                        max=MAX_EMAIL_CAP,
                    )
                )
            if not 1 <= company.marketing_sms_cap_days <= MAX_EMAIL_CAP_DAYS:
                raise ValidationError(
                    _(
                        "The period of the campaign SMS limit must be between 1 and %(max)s days.",
                        max=MAX_EMAIL_CAP_DAYS,
                    )
                )
