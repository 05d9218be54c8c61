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
            trigger:
                '.o_field_widget[name="marketing_activity_ids"] .o_field_x2many_list_row_add a',
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
            trigger: '.o_field_widget[name="marketing_activity_ids"] td:contains("Tag created")',
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
            trigger: '.o_field_widget[name="trace_ids"] button[name="action_execute"]',
            run: "click",
        },
        {
            content: "The step is processed",
            trigger: '.o_field_widget[name="trace_ids"] td[name="state"]:contains("Processed")',
        },
        {
            content: "The test is completed",
            trigger: '.o_statusbar_status button.o_arrow_button_current:contains("Completed")',
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
