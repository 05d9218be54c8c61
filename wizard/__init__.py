from . import mail_compose_message
from . import marketing_campaign_test
