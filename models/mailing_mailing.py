from odoo import Command, _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..tools.campaign_batch import get_campaign_batch

# what Odoo writes on a mailing each time it is sent
SENT_BOOKKEEPING_FIELDS = {"state", "sent_date", "kpi_mail_required"}
# what decides what a template sends, to whom and from where: whoever writes one
# of them (even with its current value) changes the campaigns that send it
CONTENT_FIELDS = {
    "subject",
    "sms_subject",
    "preview",
    "body_arch",
    "body_html",
    "body_plaintext",
    "sms_template_id",
    "sms_allow_unsubscribe",
    "email_from",
    "reply_to",
    "reply_to_mode",
    "attachment_ids",
    "mail_server_id",
    "mailing_type",
    "mailing_model_id",
    "mailing_domain",
    "mailing_filter_id",
    "contact_list_ids",
    "use_in_marketing_automation",
}


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
    # the activity that sends the template and its campaign, shown as links on its form
    marketing_activity_id = fields.Many2one(
        "marketing.activity",
        string="Sent by",
        compute="_compute_marketing_activity_id",
        groups="marketing_automation_community.group_marketing_automation_user",
    )
    marketing_campaign_id = fields.Many2one(
        "marketing.campaign",
        string="Campaign",
        compute="_compute_marketing_activity_id",
        groups="marketing_automation_community.group_marketing_automation_user",
    )

    @api.depends("marketing_activity_ids.campaign_id")
    def _compute_marketing_activity_id(self):
        for mailing in self:
            activity = mailing.marketing_activity_ids[:1]
            mailing.marketing_activity_id = activity
            mailing.marketing_campaign_id = activity.campaign_id

    @api.constrains("mailing_model_id", "mailing_type")
    def _check_marketing_activity_target(self):
        """A template used by a campaign keeps its model and type: the campaign
        sends it to records of its own target."""
        # sudo: mailing users who are not marketing users edit mailings too
        for mailing in self.sudo().filtered("marketing_activity_ids"):
            activity = mailing.marketing_activity_ids[0]
            if (
                mailing.mailing_model_real != activity.campaign_id.model_name
                or mailing.mailing_type != activity.mass_mailing_id_mailing_type
            ):
                raise ValidationError(
                    _(
                        "The mailing %(mailing)s is sent by %(usage)s: its recipients and "
                        "type cannot change.",
                        mailing=mailing.subject,
                        usage=activity._get_usage_label(self.env),
                    )
                )

    @api.constrains("use_in_marketing_automation", "state")
    def _check_marketing_template(self):
        """A template used by a campaign stays a template, and no template
        waits in Email Marketing's queue: only its campaign sends it."""
        # sudo: mailing users who are not marketing users edit mailings too
        for mailing in self.sudo():
            if not mailing.use_in_marketing_automation and mailing.marketing_activity_ids:
                raise ValidationError(
                    _(
                        "The mailing %(mailing)s is sent by %(usage)s: it stays a campaign "
                        "template.",
                        mailing=mailing.subject,
                        usage=mailing.marketing_activity_ids[0]._get_usage_label(self.env),
                    )
                )
            if mailing.use_in_marketing_automation and mailing.state in ("in_queue", "sending"):
                raise ValidationError(
                    _(
                        "The campaign template %(mailing)s cannot be queued: its campaign "
                        "sends it.",
                        mailing=mailing.subject,
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

    def _copy_marketing_template(self, subject=None):
        """A copy of this template for another activity, with its own
        attachments; the activity ties it to the UTM campaign of its campaign."""
        self.ensure_one()
        return self.copy(
            {
                "subject": subject or self.subject,
                "use_in_marketing_automation": True,
                "campaign_id": False,
                "attachment_ids": [Command.set(self.attachment_ids.copy().ids)],
            }
        )

    def _drop_unused_marketing_templates(self):
        """The templates of deleted activities or campaigns that no activity
        uses any more do not linger as drafts: those that never sent anything
        are deleted, the others archived with their statistics."""
        # sudo: whether activities of any campaign still use them, and what they sent
        templates = self.sudo().exists().filtered("use_in_marketing_automation")
        unused = templates.filtered(lambda mailing: not mailing.marketing_activity_ids)
        sent = unused.filtered("mailing_trace_ids")
        (unused - sent).with_env(self.env).unlink()
        sent.with_env(self.env).action_archive()

    def write(self, vals):
        """A campaign sends its template batch after batch, from several
        scheduler workers at once: Odoo's per-send bookkeeping on the mailing
        (sent state and date, statistics digest) is skipped, or every batch
        would update the template's row and concurrent batches would fail on
        it. The campaign reports its own statistics."""
        if get_campaign_batch(self.env) and set(vals) <= SENT_BOOKKEEPING_FIELDS:
            return True
        if CONTENT_FIELDS.intersection(vals):
            self._take_campaign_responsibility()
        return super().write(vals)

    def _take_campaign_responsibility(self):
        """A campaign's content is part of its workflow: whoever changes what
        one of its templates sends becomes the responsible of the campaigns
        that send it (``marketing.campaign._take_responsibility``), so that the
        scheduler renders it with the rights of the user who wrote it. A user
        who cannot be responsible of such a campaign (not a Marketing
        Automation user, or not of its company) cannot change the template."""
        if self.env.su:
            return
        # sudo: the activities of every campaign (and company) that sends these templates
        activities = self.sudo().marketing_activity_ids
        if not activities:
            return
        user = self.env.user
        Campaign = self.env["marketing.campaign"]
        refused = activities.filtered(
            lambda activity: (
                not Campaign._is_responsible_user(user)
                or activity.campaign_id.company_id not in user.company_ids
            )
        )
        if refused:
            raise AccessError(
                _(
                    "You cannot change the mailing %(mailing)s: %(usage)s sends it, and whoever "
                    "changes what a campaign sends becomes its responsible. Only a Marketing "
                    "Automation user of the campaign's company can.",
                    mailing=refused[0].mass_mailing_id.subject,
                    usage=refused[0]._get_usage_label(self.env),
                )
            )
        activities.campaign_id.with_env(self.env)._take_responsibility()

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

    def _action_send_mail(self, res_ids=None):
        """The one place where Odoo sends a mailing (the Send buttons, the
        mass mailing queue, campaigns; SMS go on to ``action_send_sms``)."""
        self._check_sent_by_campaign(res_ids)
        return super()._action_send_mail(res_ids=res_ids)

    def action_send_sms(self, res_ids=None):
        self._check_sent_by_campaign(res_ids)
        return super().action_send_sms(res_ids=res_ids)

    def _check_not_marketing_automation(self):
        if any(self.mapped("use_in_marketing_automation")):
            raise UserError(
                _("Marketing templates are sent by their campaign; they cannot be sent directly.")
            )

    def _check_sent_by_campaign(self, res_ids):
        if any(self.mapped("use_in_marketing_automation")) and not self._is_campaign_batch(res_ids):
            self._check_not_marketing_automation()

    def _is_campaign_batch(self, res_ids):
        """Whether the engine sends this template now (``tools.campaign_batch``):
        to the records of a batch (``res_ids``) whose traces it has just marked
        processed. Its traces must be processed traces, not sent yet, of an
        activity that sends this template, for exactly these records."""
        trace_by_res_id = get_campaign_batch(self.env)
        if (
            len(self) != 1
            or not res_ids
            or not trace_by_res_id
            or not all(isinstance(key, int) for item in trace_by_res_id.items() for key in item)
            or set(res_ids) != set(trace_by_res_id)
        ):
            return False
        # sudo: whether the engine marked these traces for this template, whoever sends
        traces = (
            self.env["marketing.trace"]
            .sudo()
            .search_fetch(
                [
                    ("id", "in", list(trace_by_res_id.values())),
                    ("state", "=", "processed"),
                    ("activity_id.mass_mailing_id", "=", self.id),
                    ("mailing_trace_ids", "=", False),
                ],
                ["res_id"],
            )
        )
        return {trace.res_id: trace.id for trace in traces} == trace_by_res_id

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
