from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

# what Odoo writes on a mailing each time it is sent
SENT_BOOKKEEPING_FIELDS = {"state", "sent_date", "kpi_mail_required"}


class MailingMailing(models.Model):
    _inherit = "mailing.mailing"

    use_in_marketing_automation = fields.Boolean(
        "Campaign Template",
        default=False,
        copy=False,
        help="Marketing templates are sent by their campaign only, never from Email Marketing.",
    )
    marketing_activity_ids = fields.One2many(
        "marketing.activity", "mass_mailing_id", string="Marketing Activities", copy=False
    )

    @api.constrains("mailing_model_id", "mailing_type")
    def _check_marketing_activity_target(self):
        """A template used by a campaign keeps its model and type: the campaign
        sends it to records of its own target."""
        # sudo: mailing users who are not marketing users edit mailings too
        for mailing in self.sudo().filtered("marketing_activity_ids"):
            activity = mailing.marketing_activity_ids[0]
            expected_type = {"email": "mail", "sms": "sms"}[activity.activity_type]
            if (
                mailing.mailing_model_real != activity.campaign_id.model_name
                or mailing.mailing_type != expected_type
            ):
                raise ValidationError(
                    _(
                        "The mailing %(mailing)s is sent by %(usage)s: its recipients and "
                        "type cannot change.",
                        mailing=mailing.subject,
                        usage=activity._get_usage_label(self.env),
                    )
                )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_used_by_activity(self):
        # sudo: mailing users who are not marketing users delete mailings too
        if used := self.sudo().filtered("marketing_activity_ids"):
            activity = used[0].marketing_activity_ids[0]
            raise UserError(
                _(
                    "The mailing %(mailing)s cannot be deleted: %(usage)s sends it. Remove "
                    "it from the activity first.",
                    mailing=used[0].subject,
                    usage=activity._get_usage_label(self.env),
                )
            )

    def write(self, vals):
        """A campaign sends its template batch after batch, from several
        scheduler workers at once: Odoo's per-send bookkeeping on the mailing
        (sent state and date, statistics digest) is skipped, or every batch
        would update the template's row and concurrent batches would fail on
        it. The campaign reports its own statistics."""
        if self.env.context.get("marketing_trace_by_res_id") and set(vals) <= (
            SENT_BOOKKEEPING_FIELDS
        ):
            return True
        return super().write(vals)

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        if self.env.context.get("default_use_in_marketing_automation"):
            res.pop("contact_list_ids", None)
        return res

    def action_launch(self):
        self._check_not_marketing_automation()
        return super().action_launch()

    def action_schedule(self):
        self._check_not_marketing_automation()
        return super().action_schedule()

    def action_put_in_queue(self):
        self._check_not_marketing_automation()
        return super().action_put_in_queue()

    def action_send_mail(self, res_ids=None):
        self._check_not_marketing_automation()
        return super().action_send_mail(res_ids=res_ids)

    def action_send_sms(self, res_ids=None):
        """Campaigns send their SMS to the records of a batch (``res_ids``);
        without them, a template would go to its whole model."""
        if not res_ids:
            self._check_not_marketing_automation()
        return super().action_send_sms(res_ids=res_ids)

    def _check_not_marketing_automation(self):
        if any(self.mapped("use_in_marketing_automation")):
            raise UserError(
                _("Marketing templates are sent by their campaign; they cannot be sent directly.")
            )

    def _send_sms_get_composer_values(self, res_ids):
        """A campaign queues its SMS, like its mails, and commits its batch with
        them: sending inside the batch could send twice after a crash."""
        values = super()._send_sms_get_composer_values(res_ids)
        if self.use_in_marketing_automation:
            values["mass_force_send"] = False
        return values

    def _get_seen_list(self):
        """A campaign decides itself who receives its mailings (unicity,
        tests sent again): Odoo's duplicate check does not apply."""
        if self.use_in_marketing_automation:
            return set()
        return super()._get_seen_list()

    def _get_seen_list_sms(self):
        if self.use_in_marketing_automation:
            return [], []
        return super()._get_seen_list_sms()

    def _action_send_statistics(self):
        """The campaign reports its own statistics: no 24h digest per send."""
        marketing = self.filtered("use_in_marketing_automation")
        marketing.kpi_mail_required = False
        return super(MailingMailing, self - marketing)._action_send_statistics()
