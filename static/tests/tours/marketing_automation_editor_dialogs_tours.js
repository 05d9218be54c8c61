import { registry } from "@web/core/registry";

/** Open the form's action menu and click Delete. */
function deleteFromForm() {
    return [
        {
            content: "Open the action menu of the campaign",
            trigger: ".o_form_view .o_cp_action_menus .dropdown-toggle",
            run: "click",
        },
        {
            content: "Delete",
            trigger: '.o-dropdown--menu .dropdown-item:contains("Delete")',
            run: "click",
        },
    ];
}

function checkValue(expected) {
    return function () {
        if (this.anchor.value !== expected) {
            throw new Error(`"${this.anchor.value}" instead of "${expected}"`);
        }
    };
}

registry.category("web_tour.tours").add("marketing_automation_delete_dialog_tour", {
    steps: () => [
        ...deleteFromForm(),
        {
            content: "The confirmation names the campaign and what goes with it",
            trigger: '.modal .modal-title:contains("Delete campaign Tour Delete?")',
        },
        {
            trigger:
                '.modal .modal-body:contains("Deleted with it: 3 participants and the history of their")',
        },
        {
            trigger: '.modal .modal-body:contains("archive instead of deleting")',
        },
        {
            content: "Keep it",
            trigger: '.modal button:contains("No, keep it")',
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
        {
            content: "Edit the email",
            trigger: '.o_ma_activity[data-activity="Welcome"] .o_ma_activity_edit',
            run: "click",
        },
        {
            content: "A negative delay",
            trigger: '.modal .o_field_widget[name="interval_number"] input',
            run: "edit -1",
        },
        {
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            content: "Refused in the dialog, naming the field",
            trigger: '.o_notification:contains("Run after: a number of 0 or more")',
        },
        {
            trigger: '.modal .o_field_invalid[name="interval_number"]',
        },
        {
            content: "A delay of 2",
            trigger: '.modal .o_field_widget[name="interval_number"] input',
            run: "edit 2",
        },
        {
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
        {
            content: "Kept in the workflow",
            trigger:
                '.o_ma_activity[data-activity="Welcome"] .o_ma_activity_trigger:contains("2 Hours")',
        },
        {
            content: "Save the campaign",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_form_saved",
        },
    ],
});

registry.category("web_tour.tours").add("marketing_automation_delete_running_tour", {
    steps: () => [
        ...deleteFromForm(),
        {
            content: "A running campaign: stop it first",
            trigger: '.modal .modal-title:contains("Stop it first")',
        },
        {
            trigger: '.modal .modal-body:contains("is running: stop it first, then delete it.")',
        },
        {
            trigger: '.modal:not(:has(button:contains("No, keep it"))) button:contains("Close")',
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
    ],
});

registry.category("web_tour.tours").add("marketing_automation_subject_target_tour", {
    steps: () => [
        {
            content: "Add an activity",
            trigger: ".o_ma_workflow .o_ma_add_activity",
            run: "click",
        },
        {
            trigger: '.modal .o_field_widget[name="name"] input',
            run: "edit Newsletter",
        },
        {
            content: "Type the subject of a new template",
            trigger: '.modal .o_field_widget[name="mass_mailing_id"] input',
            run: "edit My own subject",
        },
        {
            trigger: '.o-autocomplete--dropdown-item a:contains("Create and edit")',
            run: "click",
        },
        {
            content: "The new template keeps the typed subject, not the activity's name",
            trigger: '.modal .o_field_widget[name="subject"] input',
            run: checkValue("My own subject"),
        },
        {
            content: "Discard the template",
            trigger: ".modal:has(.o_field_widget[name='subject']) .o_form_button_cancel",
            run: "click",
        },
        {
            content: "Discard the activity",
            trigger: ".modal:not(:has(.o_field_widget[name='subject'])) .o_form_button_cancel",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
        {
            content: "Change the target",
            trigger: '.o_form_view .o_field_widget[name="model_id"] input',
            run: "edit Mailing Contact",
        },
        {
            trigger: '.o-autocomplete--dropdown-item a:contains("Mailing Contact")',
            run: "click",
        },
        {
            content: "Refused at once: the activities belong to the target",
            trigger: '.modal .modal-title:contains("The target cannot change")',
        },
        {
            trigger: '.modal .modal-body:contains("To target Mailing Contact, create a new campaign")',
        },
        {
            trigger: ".modal .modal-footer .btn-primary",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
        {
            content: "The target and the filter are kept",
            trigger: '.o_form_view .o_field_widget[name="model_id"] input',
            run: checkValue("Contact"),
        },
        {
            trigger: '.o_form_view .o_field_widget[name="domain"]:contains("Salesperson")',
        },
        {
            content: "Discard what is left to save, if anything",
            trigger: ".o_form_view .o_form_status_indicator",
            run() {
                document.querySelector(".o_form_view .o_form_button_cancel")?.click();
            },
        },
        {
            trigger: ".o_form_view .o_form_saved",
        },
    ],
});
