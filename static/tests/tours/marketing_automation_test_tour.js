import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

registry.category("web_tour.tours").add("marketing_automation_test_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the Marketing Automation app",
            trigger:
                '.o_app[data-menu-xmlid="marketing_automation_community.marketing_automation_menu_root"]',
            run: "click",
        },
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
            content: "The step is processed and the test completed",
            trigger:
                '.o_field_widget[name="trace_ids"] .o_field_badge:contains("Processed"), ' +
                '.o_field_widget[name="trace_ids"] span:contains("Processed")',
        },
        {
            trigger: '.o_statusbar_status button.o_arrow_button_current:contains("Completed")',
        },
    ],
});
