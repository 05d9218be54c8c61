from odoo.tools import SQL, column_exists


def migrate(cr, version):
    """The scheduler's error on a campaign is stored as ``scheduler_error``
    (it was ``sync_error``, though it holds every scheduler error, not only
    those of the synchronisation)."""
    if not column_exists(cr, "marketing_campaign", "sync_error"):
        return
    cr.execute(SQL("ALTER TABLE marketing_campaign RENAME COLUMN sync_error TO scheduler_error"))
