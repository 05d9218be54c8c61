import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

function openMarketingAutomation() {
    return [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the Marketing Automation app",
            trigger:
                '.o_app[data-menu-xmlid="marketing_automation_community.marketing_automation_menu_root"]',
            run: "click",
        },
    ];
}

registry.category("web_tour.tours").add("marketing_automation_create_tour", {
    url: "/odoo",
    steps: () => [
        ...openMarketingAutomation(),
        {
            content: "Create a campaign",
            trigger:
                ".o_control_panel button.o-kanban-button-new, .o_control_panel .o_list_button_add",
            run: "click",
        },
        {
            content: "Name it",
            trigger: '.o_form_view .o_field_widget[name="name"] input',
            run: "edit Tour Created",
        },
        {
            content: "Add an activity to the workflow",
            trigger: '.o_field_widget[name="marketing_activity_ids"] .o_ma_add_activity',
            run: "click",
        },
        {
            content: "Name the activity",
            trigger: '.modal .o_field_widget[name="name"] input',
            run: "edit Tag created",
        },
        {
            content: "It is a server action",
            trigger: '.modal .o_field_widget[name="activity_type"] input[data-value="action"]',
            run: "click",
        },
        {
            content: "Pick the server action",
            trigger: '.modal .o_field_widget[name="server_action_id"] input',
            run: "edit Tour: tag",
        },
        {
            trigger: '.o-autocomplete--dropdown-item a:contains("Tour: tag the contact")',
            run: "click",
        },
        {
            content: "Save and close the activity",
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
        {
            content: "The activity is in the workflow",
            trigger: '.o_ma_activity[data-activity="Tag created"] .o_ma_activity_title',
        },
        {
            content: "Save the campaign",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "Saved: it can be tested",
            trigger: '.o_form_view .o_form_saved button:contains("Launch a Test")',
        },
    ],
});

registry.category("web_tour.tours").add("marketing_automation_test_tour", {
    url: "/odoo",
    steps: () => [
        ...openMarketingAutomation(),
        {
            content: "Open the campaign",
            trigger: '.o_kanban_record:contains("Tour Campaign")',
            run: "click",
        },
        {
            content: "Launch a test",
            trigger: '.o_form_view button:contains("Launch a Test")',
            run: "click",
        },
        {
            content: "Pick the record to test with",
            trigger: '.modal .o_field_widget[name="resource_ref"] input',
            run: "edit Tour Contact",
        },
        {
            content: "Select it",
            trigger: '.o-autocomplete--dropdown-item a:contains("Tour Contact")',
            run: "click",
        },
        {
            content: "Launch",
            trigger: '.modal button[name="action_launch_test"]',
            run: "click",
        },
        {
            content: "The test participant is running",
            trigger:
                '.o_form_view .o_statusbar_status button.o_arrow_button_current:contains("Running")',
        },
        {
            content: "Run the first step now",
            trigger: '.o_ma_trace[data-activity="Tag"] .o_ma_trace_run',
            run: "click",
        },
        {
            content: "The step is processed",
            trigger: '.o_ma_trace[data-activity="Tag"][data-state="processed"]',
        },
        {
            content: "The test is completed",
            trigger: '.o_statusbar_status button.o_arrow_button_current:contains("Completed")',
        },
    ],
});

/** Add an activity under the block named ``parent`` with the trigger ``trigger``. */
function addChild(parent, trigger, name, actionName) {
    return [
        {
            content: `Open the child menu of ${parent}`,
            trigger: `.o_ma_activity[data-activity="${parent}"] + .o_ma_add_child .o_ma_add_child_toggle`,
            run: "click",
        },
        {
            content: `Add a child triggered by ${trigger}`,
            trigger: `.o-dropdown--menu .o_ma_add_child_${trigger}`,
            run: "click",
        },
        {
            content: "The trigger is filled in, among the triggers of an email only",
            trigger: `.modal .o_field_widget[name="trigger_type"] select:value(${trigger}):not(:has(option:contains(SMS)))`,
        },
        {
            content: "The parent is filled in",
            trigger: `.modal .o_field_widget[name="parent_id"] input:value(${parent})`,
        },
        {
            trigger: '.modal .o_field_widget[name="name"] input',
            run: `edit ${name}`,
        },
        {
            trigger: '.modal .o_field_widget[name="activity_type"] input[data-value="action"]',
            run: "click",
        },
        {
            content: "Odoo's contextual actions such as Download (vCard) are not offered",
            trigger: '.modal .o_field_widget[name="server_action_id"] input',
            run: "edit Download",
        },
        {
            trigger: ".o-autocomplete--dropdown-menu .o_m2o_no_result",
        },
        {
            trigger: '.modal .o_field_widget[name="server_action_id"] input',
            run: `edit ${actionName}`,
        },
        {
            trigger: `.o-autocomplete--dropdown-item a:contains("${actionName}")`,
            run: "click",
        },
        {
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
    ];
}

registry.category("web_tour.tours").add("marketing_automation_workflow_tour", {
    url: "/odoo",
    steps: () => [
        ...openMarketingAutomation(),
        {
            content: "Create a campaign",
            trigger: ".o_control_panel button.o-kanban-button-new",
            run: "click",
        },
        {
            trigger: '.o_form_view .o_field_widget[name="name"] input',
            run: "edit Tour Workflow",
        },
        {
            content: "The workflow is empty",
            trigger: ".o_ma_workflow .o_ma_workflow_empty",
        },
        {
            content: "Add the first activity",
            trigger: ".o_ma_workflow .o_ma_add_activity",
            run: "click",
        },
        {
            trigger: '.modal .o_field_widget[name="name"] input',
            run: "edit Welcome",
        },
        {
            content: "An email, with its template",
            trigger: '.modal .o_field_widget[name="mass_mailing_id"] input',
            run: "edit Tour welcome",
        },
        {
            trigger: '.o-autocomplete--dropdown-item a:contains("Tour welcome mail")',
            run: "click",
        },
        {
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
        {
            content: "The email is a root block",
            trigger: '.o_ma_activity[data-activity="Welcome"][data-depth="0"] .fa-envelope',
        },
        ...addChild("Welcome", "mail_open", "Thank the reader", "Tour: tag the contact"),
        ...addChild("Welcome", "mail_not_open", "Remind", "Tour: tag the contact"),
        {
            content: "Both children are indented under the email, with their triggers",
            trigger:
                '.o_ma_activity[data-activity="Thank the reader"][data-depth="1"] .o_ma_activity_trigger:contains("Opened after 1 Hour")',
        },
        {
            trigger:
                '.o_ma_activity[data-activity="Remind"][data-depth="1"] .o_ma_activity_trigger:contains("Not opened within 1 Hour")',
        },
        {
            content: "A server action offers only 'after the activity' to its children",
            trigger:
                '.o_ma_activity[data-activity="Remind"] + .o_ma_add_child .o_ma_add_child_toggle',
            run: "click",
        },
        {
            trigger: ".o-dropdown--menu:not(:has(.o_ma_add_child_mail_open)) .o_ma_add_child_activity",
        },
        {
            trigger: '.o_form_view .o_field_widget[name="name"] input',
            run: "click",
        },
        {
            content: "Save the campaign",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "Saved: the blocks show their figures",
            trigger: '.o_form_view .o_form_saved .o_ma_activity[data-activity="Remind"] .o_ma_tab_graph',
        },
        {
            content: "Launch a test",
            trigger: '.o_form_view button:contains("Launch a Test")',
            run: "click",
        },
        {
            trigger: '.modal .o_field_widget[name="resource_ref"] input',
            run: "edit Tour Contact",
        },
        {
            trigger: '.o-autocomplete--dropdown-item a:contains("Tour Contact")',
            run: "click",
        },
        {
            trigger: '.modal button[name="action_launch_test"]',
            run: "click",
        },
        {
            content: "Run the email",
            trigger: '.o_ma_trace[data-activity="Welcome"][data-depth="0"] .o_ma_trace_run',
            run: "click",
        },
        {
            content: "The email is sent; its children appear under it",
            trigger: '.o_ma_trace[data-activity="Welcome"][data-state="processed"]',
        },
        {
            trigger:
                '.o_ma_trace[data-activity="Thank the reader"][data-depth="1"] .o_ma_trace_waiting:contains("Waiting for: Opened")',
        },
        {
            trigger: '.o_ma_trace[data-activity="Remind"][data-depth="1"][data-state="scheduled"]',
        },
        {
            content: "Simulate the open: run the 'opened' branch",
            trigger: '.o_ma_trace[data-activity="Thank the reader"] .o_ma_trace_run',
            run: "click",
        },
        {
            trigger: '.o_ma_trace[data-activity="Thank the reader"][data-state="processed"]',
        },
        {
            content: "The 'not opened' branch is canceled, with its reason",
            trigger:
                '.o_ma_trace[data-activity="Remind"][data-state="canceled"] .o_ma_trace_message:contains("opened")',
        },
        {
            content: "The test is completed, without Resume",
            trigger:
                '.o_form_view:not(:has(button[name="action_set_running"])) .o_statusbar_status button.o_arrow_button_current:contains("Completed")',
        },
    ],
});

function checkChart(processed, rejected) {
    return function () {
        const chart = window.Chart.getChart(this.anchor);
        const [success, refused] = chart.data.datasets;
        const total = (data) => data.reduce((sum, value) => sum + value, 0);
        if (total(success.data) !== processed || total(refused.data) !== rejected) {
            throw new Error(
                `chart: ${total(success.data)} / ${total(refused.data)} instead of ${processed} / ${rejected}`
            );
        }
    };
}

registry.category("web_tour.tours").add("marketing_automation_metrics_tour", {
    steps: () => [
        {
            content: "The email block counts its processed and rejected traces",
            trigger:
                '.o_ma_activity[data-activity="Welcome"] .o_ma_figure_processed .o_ma_figure_value:contains("2")',
        },
        {
            trigger:
                '.o_ma_activity[data-activity="Welcome"] .o_ma_figure_rejected .o_ma_figure_value:contains("1")',
        },
        {
            content: "Its chart is drawn with the same figures",
            trigger: '.o_ma_activity[data-activity="Welcome"] .o_ma_activity_chart canvas',
            run: checkChart(2, 1),
        },
        {
            content: "The filter of the activity, in words, and its records",
            trigger: '.o_ma_activity[data-activity="Welcome"] .o_ma_tab_filter',
            run: "click",
        },
        {
            trigger: '.o_ma_activity[data-activity="Welcome"] .o_ma_filter_count:contains("2 record(s)")',
        },
        {
            trigger: '.o_ma_activity[data-activity="Welcome"] .o_ma_filter_description:contains("ID")',
        },
        {
            content: "The mail statistics",
            trigger: '.o_ma_activity[data-activity="Welcome"] .o_ma_tab_details',
            run: "click",
        },
        {
            trigger:
                '.o_ma_activity[data-activity="Welcome"] .o_ma_figure_sent .o_ma_figure_value:contains("2")',
        },
        {
            trigger:
                '.o_ma_activity[data-activity="Welcome"] .o_ma_figure_click .o_ma_figure_value:contains("0%")',
        },
        {
            trigger:
                '.o_ma_activity[data-activity="Welcome"] .o_ma_figure_open .o_ma_figure_value:contains("50%")',
            run: "click",
        },
        {
            content: "The opened traces of the activity open",
            trigger: '.o_list_view .o_data_row:contains("Welcome")',
            run() {
                const rows = document.querySelectorAll(".o_list_view .o_data_row");
                if (rows.length !== 1) {
                    throw new Error(`${rows.length} traces listed instead of 1`);
                }
            },
        },
        {
            content: "The action's block has no mail statistics",
            trigger: ".o_breadcrumb .breadcrumb-item.o_back_button",
            run: "click",
        },
        {
            trigger:
                '.o_ma_activity[data-activity="Tag"][data-depth="1"]:not(:has(.o_ma_tab_details)) .o_ma_figure_processed .o_ma_figure_value:contains("2")',
        },
        {
            trigger: '.o_ma_activity[data-activity="Tag"] .o_ma_activity_chart canvas',
            run: checkChart(2, 0),
        },
        {
            content: "The participants for whom the email succeeded open",
            trigger: '.o_ma_activity[data-activity="Welcome"] .o_ma_participants_processed',
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row",
            run() {
                const rows = document.querySelectorAll(".o_list_view .o_data_row");
                if (rows.length !== 2) {
                    throw new Error(`${rows.length} participants listed instead of 2`);
                }
            },
        },
        {
            trigger: '.o_breadcrumb:contains("Success — Welcome: participants")',
        },
    ],
});

registry.category("web_tour.tours").add("marketing_automation_templates_tour", {
    url: "/odoo",
    steps: () => [
        ...openMarketingAutomation(),
        {
            content: "No campaign yet: create one from the Double Opt-in template",
            trigger: '.o_marketing_campaign_template[data-template="double_opt_in"]',
            run: "click",
        },
        {
            content: "The new campaign's form opens",
            trigger: '.o_form_view .o_field_widget[name="name"] input:value("Double Opt-in")',
        },
        {
            content: "with its workflow",
            trigger:
                '.o_form_view .o_field_widget[name="marketing_activity_ids"]:contains("Add to list")',
        },
        {
            content: "Back to the campaigns",
            trigger: ".o_breadcrumb .o_back_button a, .o_breadcrumb li.breadcrumb-item a",
            run: "click",
        },
        {
            content: "Search a campaign that does not exist",
            trigger: ".o_searchview_input",
            run: "edit No such campaign",
        },
        {
            trigger: ".o_searchview_input",
            run: "press Enter",
        },
        {
            content: "The templates are offered again",
            trigger:
                '.o_marketing_campaign_templates:contains("No campaign matches your search") .o_marketing_campaign_template[data-template="welcome"]',
        },
    ],
});
