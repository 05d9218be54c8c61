"""“Sent by a campaign”: the one switch.

While the engine sends a batch of an activity through Odoo's mass mailing
(``marketing.activity._send_mailing``), the context holds under
``CAMPAIGN_BATCH_KEY`` the marketing trace of each record of the batch
(``{res_id: trace_id}``) as a ``CampaignBatch``. With it, and only with it:

- the campaign's template is sent, to that batch only, whose traces the engine
  has just marked processed (``mailing.mailing._check_sent_by_campaign``);
- each message Odoo creates is linked to its marketing trace
  (``mailing.trace.create``), which is what makes its events count;
- the mails and SMS are queued, not sent within the batch, and the mailing's
  per-send bookkeeping is skipped (``mail.compose.message``,
  ``mailing.mailing.write``);
- the opt-outs of the batch's mailing contacts apply (``mailing.contact``).

A context that comes from a remote call is JSON: it holds plain dicts, never a
``CampaignBatch``, so no user turns the switch on by setting the key (on any
mailing, with any ``res_ids``): ``get_campaign_batch`` ignores a plain dict.
"""

CAMPAIGN_BATCH_KEY = "marketing_trace_by_res_id"


class CampaignBatch(dict):
    """The marketing trace id of each record id of the batch the engine sends."""


def get_campaign_batch(env):
    """The batch the engine is sending in ``env``, or None."""
    batch = env.context.get(CAMPAIGN_BATCH_KEY)
    return batch if isinstance(batch, CampaignBatch) else None
