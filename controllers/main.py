from odoo import _, http
from odoo.http import request
from odoo.tools import consteq

from odoo.addons.mass_mailing.controllers.main import MassMailController


class MarketingMassMailController(MassMailController):
    @http.route()
    def full_url_redirect(self, code, mailing_trace_id, **post):
        """A click drives a campaign (a *clicked* child, the Double Opt-in
        confirmation): on a campaign message it counts only with the
        signature its recipient received (see ``mail.mail``), as message ids
        are easy to guess. Without it, the click counts for the link only."""
        # sudo: the route is public; the message is only checked
        mailing_trace = request.env["mailing.trace"].sudo().browse(mailing_trace_id).exists()
        if mailing_trace.marketing_trace_id and not consteq(
            str(post.get("hash_token") or ""), mailing_trace._get_marketing_click_token()
        ):
            mailing_trace_id = 0
        return super().full_url_redirect(code, mailing_trace_id, **post)

    def _mailing_unsubscribe_from_document(self, mailing, document_id, email, hash_token):
        """The unsubscribe link of a campaign email to mailing contacts opts
        the address out of the campaign's lists (those of the mailing, or
        every list it is on), as Odoo's list mailings do, instead of
        blacklisting it."""
        if mailing.use_in_marketing_automation and mailing.mailing_model_real == "mailing.contact":
            if mailing_lists := mailing.contact_list_ids or self._fetch_contacts(email).list_ids:
                mailing_lists._update_subscription_from_email(email, opt_out=True)
                return request.render(
                    "mass_mailing.page_mailing_unsubscribe",
                    dict(
                        self._prepare_mailing_subscription_values(
                            mailing, document_id, email, hash_token
                        ),
                        last_action="subscription_updated",
                        unsubscribed_name=_("You are no longer part of our mailing list(s)."),
                    ),
                )
        return super()._mailing_unsubscribe_from_document(mailing, document_id, email, hash_token)
