from odoo.tools import SQL, column_exists


def migrate(cr, version):
    """The unicity value of participants is stored as ``unique_key`` (the
    engine's, for administrators only); ``unique_value`` is now computed for
    each reader."""
    if not column_exists(cr, "marketing_participant", "unique_value"):
        return
    cr.execute(
        SQL(
            """
            ALTER TABLE marketing_participant RENAME COLUMN unique_value TO unique_key;
            ALTER INDEX IF EXISTS marketing_participant_unique_value
                RENAME TO marketing_participant_unique_key;
            """
        )
    )
