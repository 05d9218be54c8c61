# Grouped by engine stage; tests/common.py holds what they share.
# Pure functions of tools/, at install
from . import test_tools

# Set-up: the campaign and activity models
from . import test_campaign_model

# Enrolment, and Start / Stop / Update
from . import test_enrolment
from . import test_enrolment_update

# Scheduling and triggers
from . import test_scheduling_triggers
from . import test_scheduling_timing
from . import test_scheduling_sms_cap

# Execution
from . import test_execution
from . import test_execution_run_once_per_batch
from . import test_execution_record_steps
from . import test_execution_experiments
from . import test_execution_test_participants

# Events
from . import test_events

# Completion and expiry
from . import test_completion_expiry

# Scheduler and workers
from . import test_scheduler
from . import test_scheduler_workers

# Security
from . import test_security
from . import test_security_attacks
from . import test_security_bad_input
from . import test_security_scheduler
from . import test_security_server_actions
from . import test_security_events
from . import test_security_click_route
from . import test_security_rules
from . import test_security_content

# Reporting, blueprints, demo data, translations, query counts
from . import test_reporting
from . import test_blueprints
from . import test_blueprints_closing_reminder
from . import test_demo
from . import test_i18n
from . import test_reasons_i18n
from . import test_performance

# UI: the workflow editor's server side, tours and JavaScript unit tests
from . import test_ui_workflow_editor
from . import test_ui_workflow_vocabulary
from . import test_ui
from . import test_ui_reporting
from . import test_views_reports
from . import test_editor_dialogs
from . import test_ui_workflow_editor_tour
from . import test_ui_workflow_editor_js
from . import test_ui_blueprints
from . import test_ui_experiments
from . import test_ui_phone_screens
from . import test_editor_dialogs_ui
from . import test_nocode_ui
