import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

const MODULE = "marketing_automation_community";

function openReport(menuXmlid, name) {
    return [
        {
            content: "Open the Reporting menu",
            trigger: `.o_main_navbar button:contains("Reporting")`,
            run: "click",
        },
        {
            content: `Open ${name}`,
            trigger: `.dropdown-item[data-menu-xmlid="${MODULE}.${menuXmlid}"]`,
            run: "click",
        },
        {
            content: `${name}: a chart is drawn`,
            trigger: `.o_breadcrumb:contains("${name}"), .o_graph_view .o_graph_canvas_container canvas`,
        },
        {
            trigger: ".o_graph_view .o_graph_canvas_container canvas",
        },
    ];
}

registry.category("web_tour.tours").add("marketing_automation_reporting_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the Marketing Automation app",
            trigger: `.o_app[data-menu-xmlid="${MODULE}.marketing_automation_menu_root"]`,
            run: "click",
        },
        {
            content: "Open the reported campaign",
            trigger: '.o_kanban_record:contains("Reporting Tour")',
            run: "click",
        },
        {
            content: "Templates: one email, in the singular",
            trigger:
                '.oe_stat_button[name="action_view_mailings"]:has(.o_stat_value:contains("1")):has(.o_stat_text:contains("Template")):not(:has(.o_stat_text:contains("Templates")))',
        },
        {
            content: "Clicks: one click on its link, in the singular",
            trigger:
                '.oe_stat_button[name="action_view_link_clicks"]:has(.o_stat_value:contains("1")):has(.o_stat_text:contains("Click")):not(:has(.o_stat_text:contains("Clicks")))',
        },
        {
            content: "Participants: none running, 3 done, 3 in all",
            trigger:
                '.oe_stat_button[name="action_view_participants"] [name="running_participant_count"]:contains("0")',
        },
        {
            trigger:
                '.oe_stat_button[name="action_view_participants"] [name="completed_participant_count"]:contains("3")',
        },
        {
            trigger:
                '.oe_stat_button[name="action_view_participants"] [name="total_participant_count"]:contains("3")',
        },
        {
            content: "Load a favorite filter",
            trigger: '.o_field_widget[name="favorite_filter_id"] input',
            run: "edit Belgian",
        },
        {
            trigger: '.o-autocomplete--dropdown-item a:contains("Belgian contacts")',
            run: "click",
        },
        {
            content: "The filter of the campaign is the favorite one",
            trigger: '.o_field_widget[name="domain"]:contains("Country Code")',
        },
        {
            content: "Save the campaign",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_form_saved",
        },
        {
            content: "Open the clicks of the campaign",
            trigger: '.oe_stat_button[name="action_view_link_clicks"]',
            run: "click",
        },
        {
            content: "The clicks of its mailing, drawn",
            trigger: ".o_graph_view .o_graph_canvas_container canvas",
        },
        ...openReport("marketing_link_tracker_report_menu", "Link Tracker"),
        ...openReport("marketing_trace_report_menu", "Traces Analysis"),
        ...openReport("marketing_participant_report_menu", "Participants Analysis"),
    ],
});

registry.category("web_tour.tours").add("marketing_automation_activity_filter_tour", {
    steps: () => [
        {
            content: "The activity's filter counts what the activity can reach",
            trigger: '.o_field_widget[name="domain"] .o_domain_show_selection_button:contains("3 record")',
        },
        {
            content: "Open those records",
            trigger: '.o_field_widget[name="domain"] .o_domain_show_selection_button',
            run: "click",
        },
        {
            content: "They are the campaign's contacts",
            trigger: '.modal .o_data_row:contains("Reported 2")',
        },
        {
            content: "Three of them, no more",
            trigger: ".modal tbody:has(.o_data_row:nth-child(3)):not(:has(.o_data_row:nth-child(4)))",
        },
    ],
});
