from . import marketing_campaign
from . import marketing_campaign_workflow
from . import marketing_activity
from . import marketing_participant
from . import marketing_trace
from . import marketing_favorite_filter
from . import mailing_mailing
from . import mailing_trace
