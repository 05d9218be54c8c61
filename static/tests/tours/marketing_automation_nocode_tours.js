import { registry } from "@web/core/registry";

const isPhone = () => window.innerWidth < 768;

/**
 * Pick ``label`` in the relational field ``name`` of ``scope`` (the dialog by
 * default): through its autocomplete, or on a phone through the search dialog
 * that a tap on the field opens.
 */
function pick(name, search, label = search, scope = ".modal") {
    const input = `${scope} .o_field_widget[name="${name}"] input`;
    if (!isPhone()) {
        return [
            { content: `Search ${search} in ${name}`, trigger: input, run: `edit ${search}` },
            {
                content: `Pick ${label}`,
                trigger: `.o-autocomplete--dropdown-item a:contains("${label}")`,
                run: "click",
            },
        ];
    }
    return [
        { content: `Tap ${name}: its search dialog opens`, trigger: input, run: "click" },
        {
            content: "Open the search bar",
            trigger: ".modal .o_control_panel button:has(.fa-search):not(.active)",
            run: "click",
        },
        { trigger: ".modal .o_searchview_input", run: `edit ${search}` },
        { trigger: ".modal .o_searchview_input", run: "press Enter" },
        {
            content: `Pick ${label}`,
            trigger: `.modal .o_kanban_record:contains("${label}"), .modal .o_data_row:contains("${label}") .o_data_cell`,
            run: "click",
        },
        {
            content: "The search dialog is closed",
            trigger: "body:not(:has(.modal .o_searchview_input))",
        },
    ];
}

/**
 * Add a root activity of kind ``type`` named ``name`` through the workflow's
 * activity dialog; ``settings`` are the steps filling in what the kind needs.
 * The block then shows in the workflow.
 */
function addStep(name, type, settings) {
    return [
        {
            content: `Add the activity ${name}`,
            trigger: ".o_ma_workflow .o_ma_add_activity",
            run: "click",
        },
        {
            trigger: '.modal .o_field_widget[name="name"] input',
            run: `edit ${name}`,
        },
        {
            content: `It is a ${type} step`,
            trigger: `.modal .o_field_widget[name="activity_type"] input[data-value="${type}"]`,
            run: "click",
        },
        ...settings,
        {
            content: "Save and close the activity",
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
        {
            content: `${name} is in the workflow`,
            trigger: `.o_ma_activity[data-activity="${name}"][data-depth="0"] .o_ma_activity_title`,
        },
    ];
}

function newCampaign(name) {
    return [
        {
            content: "A new campaign",
            trigger: '.o_form_view .o_field_widget[name="name"] input',
            run: `edit ${name}`,
        },
        {
            content: "Its workflow is empty",
            trigger: ".o_ma_workflow .o_ma_workflow_empty",
        },
    ];
}

const saveCampaign = [
    {
        content: "Save the campaign",
        trigger: ".o_form_view .o_form_button_save",
        run: "click",
    },
    {
        content: "Saved",
        trigger: ".o_form_view .o_form_saved",
    },
];

/** Click a button of the form's header: in the actions (cog) menu on a phone. */
function headerButton(content, selector) {
    if (window.innerWidth >= 768) {
        return [{ content, trigger: `.o_form_view .o_statusbar_buttons ${selector}`, run: "click" }];
    }
    return [
        {
            content: "Open the actions menu",
            trigger: ".o_control_panel .o_cp_action_menus button:has(.fa-cog)",
            run: "click",
        },
        { content, trigger: `.o-dropdown--menu ${selector}`, run: "click" },
    ];
}

registry.category("web_tour.tours").add("marketing_automation_nocode_contacts_tour", {
    steps: () => [
        ...newCampaign("No-code Contacts"),
        ...addStep("Tag hot", "tag", [
            {
                content: "A mailing list step does not fit contacts: said at once",
                trigger: '.modal .o_field_widget[name="activity_type"] input[data-value="mailing_list"]',
                run: "click",
            },
            {
                trigger:
                    '.o_notification:contains("only mailing contacts are in lists, not Contact records")',
            },
            {
                trigger: '.modal .o_field_widget[name="activity_type"] input[data-value="tag"]',
                run: "click",
            },
            {
                content: "Add (the default) the tag",
                trigger: '.modal .o_field_widget[name="tag_operation"] input[data-value="add"]:checked',
            },
            ...pick("tag_ids", "Tour hot", "Tour hot lead"),
            {
                trigger: '.modal .o_field_widget[name="tag_ids"] .o_tag:contains("Tour hot lead")',
            },
        ]),
        ...addStep("Call them", "plan_activity", [
            ...pick("plan_activity_type_id", "Call"),
            {
                trigger: '.modal .o_field_widget[name="plan_summary"] input',
                run: "edit Discuss the offer",
            },
            {
                trigger: '.modal .o_field_widget[name="plan_deadline_days"] input',
                run: "edit 2",
            },
            ...pick("plan_user_id", "Arthur", "Arthur Assignee"),
        ]),
        ...addStep("Log interest", "note", [
            {
                trigger: '.modal .o_field_widget[name="note_body"] textarea',
                run: "edit Interested in <b>our</b> offer",
            },
        ]),
        ...addStep("Mark VIP", "set_field", [
            {
                content: "The value is asked once the field is chosen",
                trigger: '.modal:not(:has(.o_field_widget[name="set_field_value"]))',
            },
            ...pick("set_field_id", "Job Position"),
            {
                trigger: '.modal .o_field_widget[name="set_field_value"] input',
                run: "edit VIP",
            },
        ]),
        ...saveCampaign,
    ],
});

registry.category("web_tour.tours").add("marketing_automation_nocode_list_tour", {
    steps: () => [
        ...newCampaign("No-code Subscribers"),
        ...pick("model_id", "Mailing Contact", "Mailing Contact", ".o_form_view"),
        {
            content: "The campaign targets mailing contacts",
            trigger: '.o_form_view .o_field_widget[name="model_id"] input:value("Mailing Contact")',
        },
        ...addStep("Subscribe", "mailing_list", [
            {
                trigger:
                    '.modal .o_field_widget[name="mailing_list_operation"] input[data-value="add"]:checked',
            },
            ...pick("mailing_list_id", "Tour list", "Tour list"),
        ]),
        ...saveCampaign,
    ],
});

registry.category("web_tour.tours").add("marketing_automation_failed_mail_tour", {
    steps: () => [
        ...headerButton("Launch a test", 'button:contains("Launch a Test")'),
        ...pick("resource_ref", "Tour Recipient"),
        {
            trigger: '.modal button[name="action_launch_test"]',
            run: "click",
        },
        {
            content: "Run the email",
            trigger: '.o_ma_trace[data-activity="Welcome"][data-state="scheduled"] .o_ma_trace_run',
            run: "click",
        },
        {
            content: "The email is sent; the step after it waits for the open, with Run",
            trigger: '.o_ma_trace[data-activity="Welcome"][data-state="processed"]',
        },
        {
            trigger:
                '.o_ma_trace[data-activity="Thank the reader"][data-state="scheduled"] .o_ma_trace_run',
            run: "click",
        },
        {
            content: "The mail queue failed the email meanwhile: the Run is refused, saying why",
            trigger:
                '.o_notification:contains("Thank the reader can no longer run: it is Canceled")',
        },
        {
            trigger: '.o_notification:contains("the parent message was not delivered")',
        },
        {
            content: "The screen shows the current states: the email failed, its child canceled",
            trigger:
                '.o_ma_trace[data-activity="Welcome"][data-state="error"] .o_ma_trace_message:contains("Not delivered")',
        },
        {
            trigger:
                '.o_ma_trace[data-activity="Thank the reader"][data-state="canceled"]:not(:has(.o_ma_trace_run))',
        },
        {
            content: "No step is left with Run",
            trigger: ".o_ma_trace_tree:not(:has(.o_ma_trace_run))",
        },
    ],
});
