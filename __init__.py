from . import controllers
from . import models
from . import tools
from . import wizard


def uninstall_hook(env):
    """Release the server actions of the activities before the module's data
    goes: the actions made by campaign blueprints belong to the module (see
    ``_blueprint_server_action``) and are removed with it, which the
    activities' ``ondelete="restrict"`` would otherwise prevent."""
    env.cr.execute(
        "UPDATE marketing_activity SET server_action_id = NULL WHERE server_action_id IS NOT NULL"
    )
