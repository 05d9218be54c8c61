import { defineMailModels } from "@mail/../tests/mail_test_helpers";
import { after, describe, expect, test } from "@odoo/hoot";
import { queryAllTexts } from "@odoo/hoot-dom";
import { animationFrame } from "@odoo/hoot-mock";
import {
    contains,
    defineModels,
    fields,
    mockService,
    models,
    mountView,
    onRpc,
} from "@web/../tests/web_test_helpers";
import { triggerLabel } from "@marketing_automation_community/workflow/workflow_utils";
import { WORKFLOW_VOCABULARY } from "./workflow_vocabulary";

describe.current.tags("desktop");

const TRIGGERS = [
    ["begin", "beginning of workflow"],
    ["activity", "another activity"],
    ["mail_open", "Mail: opened"],
    ["mail_not_open", "Mail: not opened"],
    ["mail_reply", "Mail: replied"],
    ["mail_not_reply", "Mail: not replied"],
    ["mail_click", "Mail: clicked"],
    ["mail_not_click", "Mail: not clicked"],
    ["mail_bounce", "Mail: bounced"],
    ["sms_click", "SMS: clicked"],
    ["sms_not_click", "SMS: not clicked"],
    ["sms_bounce", "SMS: bounced"],
];
const INTERVALS = [
    ["hours", "Hours"],
    ["days", "Days"],
    ["weeks", "Weeks"],
    ["months", "Months"],
];

class Contact extends models.Model {
    _name = "test.contact";

    name = fields.Char();

    _records = [
        { id: 1, name: "Anna" },
        { id: 2, name: "Bob" },
        { id: 3, name: "Carla" },
    ];
}

class MarketingCampaign extends models.Model {
    _name = "marketing.campaign";

    name = fields.Char();
    model_name = fields.Char();
    domain = fields.Char();
    include_archived = fields.Boolean();
    marketing_activity_ids = fields.One2many({
        relation: "marketing.activity",
        relation_field: "campaign_id",
    });

    _records = [
        {
            id: 1,
            name: "Welcome",
            model_name: "test.contact",
            domain: "[]",
            marketing_activity_ids: [1, 2, 3, 4, 5],
        },
    ];
}

class MarketingActivity extends models.Model {
    _name = "marketing.activity";

    name = fields.Char();
    sequence = fields.Integer();
    campaign_id = fields.Many2one({ relation: "marketing.campaign" });
    activity_type = fields.Selection({
        selection: [
            ["email", "Email"],
            ["sms", "SMS"],
            ["action", "Server Action"],
            ["split", "A/B split"],
        ],
        default: "email",
    });
    trigger_type = fields.Selection({ selection: TRIGGERS, default: "begin" });
    interval_number = fields.Integer({ default: 1 });
    interval_type = fields.Selection({ selection: INTERVALS, default: "hours" });
    parent_id = fields.Many2one({ relation: "marketing.activity" });
    domain = fields.Char({ default: "[]" });

    _records = [
        // in the list's order: a child may come before its parent's sibling
        { id: 1, name: "Welcome mail", activity_type: "email", campaign_id: 1 },
        {
            id: 2,
            name: "Thanks",
            activity_type: "action",
            trigger_type: "mail_open",
            interval_number: 2,
            parent_id: 1,
            campaign_id: 1,
            domain: "[('name', 'ilike', 'a')]",
        },
        {
            id: 3,
            name: "SMS",
            activity_type: "sms",
            interval_number: 2,
            interval_type: "days",
            campaign_id: 1,
        },
        {
            id: 4,
            name: "Tag",
            activity_type: "action",
            trigger_type: "activity",
            interval_number: 3,
            interval_type: "weeks",
            parent_id: 2,
            campaign_id: 1,
        },
        {
            id: 5,
            name: "Reminder",
            activity_type: "email",
            trigger_type: "mail_not_open",
            interval_number: 3,
            interval_type: "days",
            parent_id: 1,
            campaign_id: 1,
        },
    ];

    _views = {
        form: `
            <form>
                <field name="name"/>
                <field name="activity_type"/>
                <field name="interval_number"/>
                <field name="interval_type"/>
                <field name="trigger_type" widget="marketing_trigger_selection"/>
                <field name="parent_id"/>
            </form>`,
    };

    get_workflow_vocabulary() {
        expect.step("vocabulary");
        return WORKFLOW_VOCABULARY;
    }
}

defineMailModels();
defineModels([Contact, MarketingCampaign, MarketingActivity]);

const CAMPAIGN_FORM = `
    <form>
        <field name="name"/>
        <field name="model_name" invisible="1"/>
        <field name="domain" invisible="1"/>
        <field name="include_archived" invisible="1"/>
        <field name="marketing_activity_ids" widget="marketing_workflow">
            <list>
                <field name="sequence"/>
                <field name="name"/>
                <field name="activity_type"/>
                <field name="trigger_type"/>
                <field name="interval_number"/>
                <field name="interval_type"/>
                <field name="parent_id"/>
                <field name="domain"/>
            </list>
        </field>
    </form>`;

function series(processed, rejected) {
    const days = [...Array(15).keys()].map((index) => `2024-11-${11 + index}`);
    return {
        days,
        processed: days.map((day, index) => (index === 14 ? processed : 0)),
        rejected: days.map((day, index) => (index === 14 ? rejected : 0)),
    };
}

function metrics(values = {}) {
    return {
        trace_count: 0,
        processed: 0,
        rejected: 0,
        series: series(0, 0),
        sent: 0,
        open: 0,
        reply: 0,
        click: 0,
        bounce: 0,
        open_ratio: 0,
        reply_ratio: 0,
        click_ratio: 0,
        bounce_ratio: 0,
        ...values,
    };
}

function mockMetrics(byActivity = {}) {
    onRpc("marketing.campaign", "get_workflow_metrics", ({ args }) => {
        expect.step(`metrics ${args[0]}`);
        return Object.fromEntries(
            [1, 2, 3, 4, 5].map((id) => [id, metrics(byActivity[id])])
        );
    });
}

const block = (name) => `.o_ma_activity[data-activity="${name}"]`;
const addChildMenu = (name) => `${block(name)} + .o_ma_add_child .o_ma_add_child_toggle`;

test("activities are blocks, children indented under their parent, with their triggers", async () => {
    mockMetrics();
    await mountView({ type: "form", resModel: "marketing.campaign", resId: 1, arch: CAMPAIGN_FORM });

    expect(queryAllTexts(".o_ma_activity .o_ma_activity_title")).toEqual([
        "Welcome mail",
        "Thanks",
        "Tag",
        "Reminder",
        "SMS",
    ]);
    expect(
        [...document.querySelectorAll(".o_ma_activity")].map((el) => el.dataset.depth)
    ).toEqual(["0", "1", "2", "1", "0"]);
    expect(block("Tag")).toHaveStyle({ marginLeft: "80px" });
    expect(block("Welcome mail")).toHaveStyle({ marginLeft: "0px" });
    expect(queryAllTexts(".o_ma_activity .o_ma_activity_trigger")).toEqual([
        "1 Hour",
        "Opened after 2 Hours",
        "after 3 Weeks",
        "Not opened within 3 Days",
        "2 Days",
    ]);
    expect(`${block("Welcome mail")} .fa-envelope`).toHaveCount(1);
    expect(`${block("SMS")} .fa-mobile`).toHaveCount(1);
    expect(`${block("Tag")} .fa-gears`).toHaveCount(1);
    expect(queryAllTexts(`.o_ma_activity .o_ma_activity_type`)).toEqual([
        "Email",
        "Server Action",
        "Server Action",
        "Email",
        "SMS",
    ]);
    // one call for the figures of the whole workflow, one for its words
    expect.verifySteps(["vocabulary", "metrics 1"]);
});

test("the child menu offers the triggers of the parent's type", async () => {
    mockMetrics();
    await mountView({ type: "form", resModel: "marketing.campaign", resId: 1, arch: CAMPAIGN_FORM });

    await contains(addChildMenu("Welcome mail")).click();
    expect(queryAllTexts(".o-dropdown--menu .dropdown-item")).toEqual([
        "After the activity",
        "Opened",
        "Not opened",
        "Replied",
        "Not replied",
        "Clicked",
        "Not clicked",
        "Bounced",
    ]);
    await contains(addChildMenu("SMS")).click();
    expect(queryAllTexts(".o-dropdown--menu .dropdown-item")).toEqual([
        "After the activity",
        "Clicked",
        "Not clicked",
        "Bounced",
    ]);
    await contains(addChildMenu("Tag")).click();
    expect(queryAllTexts(".o-dropdown--menu .dropdown-item")).toEqual(["After the activity"]);
    expect.verifySteps(["vocabulary", "metrics 1"]);
});

test("a child added under an unsaved parent of a new campaign", async () => {
    mockMetrics();
    await mountView({ type: "form", resModel: "marketing.campaign", arch: CAMPAIGN_FORM });
    expect(".o_ma_workflow_empty").toHaveCount(1);
    // a new campaign has no figures to load, only words
    expect.verifySteps(["vocabulary"]);

    await contains(".o_ma_add_activity").click();
    expect(".modal .modal-title").toHaveText("New Activity");
    await contains(".modal [name=name] input").edit("First mail");
    await contains(".modal .o_form_button_save").click();
    expect(`${block("First mail")} .o_ma_activity_unsaved`).toHaveCount(1);

    await contains(addChildMenu("First mail")).click();
    await contains(".o-dropdown--menu .o_ma_add_child_mail_not_click").click();
    expect(".modal [name=parent_id] input").toHaveValue("First mail");
    expect(".modal [name=trigger_type] select").toHaveValue('"mail_not_click"');
    // only the triggers an email parent allows
    expect(queryAllTexts(".modal [name=trigger_type] option")).toEqual([
        "",
        "another activity",
        "Mail: opened",
        "Mail: not opened",
        "Mail: replied",
        "Mail: not replied",
        "Mail: clicked",
        "Mail: not clicked",
        "Mail: bounced",
    ]);
    expect(".modal .o_ma_trigger_error").toHaveCount(0);
    await contains(".modal [name=name] input").edit("Not clicked");
    await contains(".modal [name=activity_type] select").select('"sms"');
    await contains(".modal .o_form_button_save").click();

    expect(block("Not clicked")).toHaveAttribute("data-depth", "1");
    expect(`${block("Not clicked")} .o_ma_activity_trigger`).toHaveText("Not clicked within 1 Hour");
    // an SMS child offers the SMS triggers
    await contains(addChildMenu("Not clicked")).click();
    expect(queryAllTexts(".o-dropdown--menu .dropdown-item")).toEqual([
        "After the activity",
        "Clicked",
        "Not clicked",
        "Bounced",
    ]);
});

test("the dialog says when the trigger does not fit the parent", async () => {
    mockMetrics();
    await mountView({ type: "form", resModel: "marketing.campaign", resId: 1, arch: CAMPAIGN_FORM });

    await contains(`${block("Tag")} .o_ma_activity_edit`).click();
    expect(".modal .modal-title").toHaveText("Activity");
    expect(".modal [name=parent_id] input").toHaveValue("Thanks");
    // under a server action, "after the activity" only
    expect(queryAllTexts(".modal [name=trigger_type] option")).toEqual(["", "another activity"]);
    expect(".modal .o_ma_trigger_error").toHaveCount(0);
    await contains(".modal [name=parent_id] input").clear({ confirm: "blur" });
    await animationFrame();
    expect(".modal [name=parent_id] input").toHaveValue("");
    expect(".modal .o_ma_trigger_error").toHaveText("Choose the parent activity of this trigger.");
    await contains(".modal [name=trigger_type] select").select('"begin"');
    expect(".modal .o_ma_trigger_error").toHaveCount(0);
    expect.verifySteps(["vocabulary", "metrics 1"]);
});

test("deleting: at once without traces, after confirmation with traces or children", async () => {
    mockMetrics({ 3: { trace_count: 4 } });
    await mountView({ type: "form", resModel: "marketing.campaign", resId: 1, arch: CAMPAIGN_FORM });

    await contains(`${block("Reminder")} .o_ma_activity_delete`).click();
    expect(".modal").toHaveCount(0);
    expect(block("Reminder")).toHaveCount(0);

    await contains(`${block("SMS")} .o_ma_activity_delete`).click();
    expect(".modal .modal-body").toHaveText(
        "It has 4 participant steps (traces), done or planned: they will be deleted. The statistics of the mails already sent stay in Email Marketing."
    );
    await contains(".modal .btn-secondary").click();
    expect(block("SMS")).toHaveCount(1);

    await contains(`${block("Welcome mail")} .o_ma_activity_delete`).click();
    expect(".modal .modal-body").toHaveText("Its 2 child activities will be deleted with it.");
    await contains(".modal .btn-primary").click();
    expect(queryAllTexts(".o_ma_activity .o_ma_activity_title")).toEqual(["SMS"]);
    expect.verifySteps(["vocabulary", "metrics 1"]);
});

test("the Graph, Filter and Details tabs of a block", async () => {
    mockMetrics({
        1: metrics({
            trace_count: 5,
            processed: 3,
            rejected: 2,
            series: series(3, 2),
            sent: 3,
            open: 2,
            click: 1,
            open_ratio: 66.7,
            click_ratio: 33.3,
            reply_ratio: 0,
            bounce_ratio: 0,
        }),
        3: metrics({ processed: 4, error: 1, sent: 4, click_ratio: 25, bounce_ratio: 50 }),
    });
    onRpc("test.contact", "search_count", ({ args }) => {
        expect.step(`count ${JSON.stringify(args[0])}`);
    });
    // the Bootstrap colours of the backend's style sheet (Odoo drops the bs- prefix)
    const rootStyle = document.documentElement.style;
    rootStyle.setProperty("--success-rgb", "25, 135, 84");
    rootStyle.setProperty("--info-rgb", "13, 202, 240");
    after(() => {
        rootStyle.removeProperty("--success-rgb");
        rootStyle.removeProperty("--info-rgb");
    });
    await mountView({ type: "form", resModel: "marketing.campaign", resId: 1, arch: CAMPAIGN_FORM });

    // Graph (default): a line chart and the totals
    expect(`${block("Welcome mail")} .o_ma_tab_graph`).toHaveClass("active");
    expect(queryAllTexts(`${block("Welcome mail")} .o_ma_totals a`)).toEqual([
        "3Success",
        "2Rejected",
    ]);
    // failed traces show beside them, only when there are some
    expect(queryAllTexts(`${block("SMS")} .o_ma_totals a`)).toEqual([
        "4Success",
        "0Rejected",
        "1Failed",
    ]);
    const canvas = document.querySelector(`${block("Welcome mail")} .o_ma_activity_chart canvas`);
    const chart = window.Chart.getChart(canvas);
    expect(chart.config.type).toBe("line");
    expect(chart.data.labels).toHaveLength(15);
    // in the colours of the states processed and rejected
    expect(chart.data.datasets.map((dataset) => dataset.borderColor)).toEqual([
        "rgba(25, 135, 84, 1)",
        "rgba(13, 202, 240, 1)",
    ]);
    expect(`${block("Welcome mail")} .o_ma_figure_rejected`).toHaveClass("text-info");
    expect(chart.data.datasets[0].data.at(-1)).toBe(3);
    expect(chart.data.datasets[1].data.at(-1)).toBe(2);

    // Details of an email and of an SMS; none for a server action
    await contains(`${block("Welcome mail")} .o_ma_tab_details`).click();
    expect(queryAllTexts(`${block("Welcome mail")} .o_ma_pane_details a`)).toEqual([
        "3\nSent",
        "66.7%\nOpened",
        "0%\nReplied",
        "33.3%\nClicked",
        "0%\nBounced",
    ]);
    await contains(`${block("SMS")} .o_ma_tab_details`).click();
    expect(queryAllTexts(`${block("SMS")} .o_ma_pane_details a`)).toEqual([
        "4\nSent",
        "25%\nClicked",
        "50%\nBounced",
    ]);
    expect(`${block("Tag")} .o_ma_tab_details`).toHaveCount(0);

    // Filter: the activity's filter in words, the count of the applied filter
    await contains(`${block("Tag")} .o_ma_tab_filter`).click();
    await animationFrame();
    expect(`${block("Tag")} .o_ma_filter_description`).toHaveText("Match all records");
    expect(`${block("Tag")} .o_ma_filter_count`).toHaveText("2 record(s)");
    await contains(`${block("Thanks")} .o_ma_tab_filter`).click();
    await animationFrame();
    expect(`${block("Thanks")} .o_ma_filter_description`).toHaveText("Name contains a");
    // the ancestors' filters apply to the children: Tag is under Thanks
    expect.verifySteps([
        "vocabulary",
        "metrics 1",
        'count [["name","ilike","a"]]',
        'count [["name","ilike","a"]]',
    ]);
    expect(`${block("Thanks")} .o_ma_filter_count`).toHaveText("2 record(s)");
});

test("the figures are loaded again when the form reloads", async () => {
    mockMetrics();
    await mountView({ type: "form", resModel: "marketing.campaign", resId: 1, arch: CAMPAIGN_FORM });
    expect.verifySteps(["vocabulary", "metrics 1"]);

    await contains("[name=name] input").edit("Welcome back");
    await contains(".o_form_button_save").click();
    expect.verifySteps(["metrics 1"]);
    // editing the form without reloading it does not call again
    await contains("[name=name] input").edit("Welcome again");
    expect.verifySteps([]);
});

test("a figure opens what the server's action for its measure lists", async () => {
    mockMetrics({ 1: metrics({ processed: 3, sent: 3, open_ratio: 66.7 }) });
    for (const method of ["action_view_traces", "action_view_participants"]) {
        onRpc("marketing.activity", method, ({ args }) => {
            expect.step(`${method} ${JSON.stringify(args)}`);
            return { type: "ir.actions.act_window", name: `${method} ${args[1]}` };
        });
    }
    mockService("action", {
        doAction(action) {
            expect.step(`open ${action.name}`);
        },
    });
    await mountView({ type: "form", resModel: "marketing.campaign", resId: 1, arch: CAMPAIGN_FORM });

    await contains(`${block("Welcome mail")} .o_ma_figure_processed`).click();
    await contains(`${block("Welcome mail")} .o_ma_participants_processed`).click();
    await contains(`${block("Welcome mail")} .o_ma_tab_details`).click();
    await contains(`${block("Welcome mail")} .o_ma_figure_open`).click();
    await contains(`${block("Welcome mail")} .o_ma_participants_open`).click();
    expect.verifySteps([
        "vocabulary",
        "metrics 1",
        'action_view_traces [[1],"processed"]',
        "open action_view_traces processed",
        'action_view_participants [[1],"processed"]',
        "open action_view_participants processed",
        'action_view_traces [[1],"open"]',
        "open action_view_traces open",
        'action_view_participants [[1],"open"]',
        "open action_view_participants open",
    ]);
});

test("a split block compares its branches in a table, and Promote promotes one", async () => {
    // the split and its branches, in a campaign of their own
    MarketingCampaign._records.push({
        id: 2,
        name: "A/B",
        model_name: "test.contact",
        domain: "[]",
        marketing_activity_ids: [6, 7, 8],
    });
    MarketingActivity._records.push(
        { id: 6, name: "Which offer?", activity_type: "split", campaign_id: 2 },
        {
            id: 7,
            name: "Offer A",
            trigger_type: "activity",
            interval_number: 0,
            parent_id: 6,
            campaign_id: 2,
        },
        {
            id: 8,
            name: "Offer B",
            trigger_type: "activity",
            interval_number: 0,
            parent_id: 6,
            campaign_id: 2,
        }
    );
    const branch = (values) => ({
        split_weight: 50,
        promoted: false,
        sent: 0,
        opened: 0,
        clicked: 0,
        replied: 0,
        goal_reached: 0,
        goal_reached_rate: 0,
        best: false,
        p_value: null,
        ...values,
    });
    let promoted = false;
    onRpc("marketing.campaign", "get_workflow_metrics", ({ args }) => {
        expect.step(`metrics ${args[0]}`);
        return {
            6: metrics({
                processed: 100,
                split_on_goal: false,
                split_results: [
                    branch({
                        activity_id: 7,
                        name: "Offer A",
                        participants: 52,
                        sent: 52,
                        opened_rate: 61.5,
                        clicked_rate: 40.4,
                        replied_rate: 1.9,
                        best: true,
                        p_value: 1.0,
                    }),
                    branch({
                        activity_id: 8,
                        name: "Offer B",
                        participants: 48,
                        sent: 47,
                        opened_rate: 50,
                        clicked_rate: 18.8,
                        replied_rate: 0,
                        promoted,
                        p_value: 0.0213,
                    }),
                ],
            }),
            7: metrics({ processed: 52, sent: 52 }),
            8: metrics({ processed: 48, sent: 47 }),
        };
    });
    onRpc("marketing.activity", "action_promote_branch", ({ args }) => {
        expect.step(`promote ${JSON.stringify(args[0])}`);
        promoted = true;
        return true;
    });
    await mountView({ type: "form", resModel: "marketing.campaign", resId: 2, arch: CAMPAIGN_FORM });
    expect.verifySteps(["vocabulary", "metrics 2"]);

    // the split opens on its branches; the other blocks keep their graph
    expect(`${block("Which offer?")} .o_ma_tab_split`).toHaveClass("active");
    expect(`${block("Offer A")} .o_ma_tab_split`).toHaveCount(0);
    expect(`${block("Offer A")} .o_ma_tab_graph`).toHaveClass("active");
    const table = `${block("Which offer?")} .o_ma_split_table`;
    expect(queryAllTexts(`${table} thead th`)).toEqual([
        "Branch",
        "People",
        "Sent",
        "Opened",
        "Clicked",
        "Replied",
        "Sure",
        "",
    ]);
    expect(queryAllTexts(`${table} tr[data-branch="Offer A"] td`)).toEqual([
        "Offer A",
        "52",
        "52",
        "61.5%",
        "40.4%",
        "1.9%",
        "Best",
        "Promote",
    ]);
    expect(queryAllTexts(`${table} tr[data-branch="Offer B"] td`)).toEqual([
        "Offer B",
        "48",
        "47",
        "50%",
        "18.8%",
        "0%",
        "98%",
        "Promote",
    ]);
    // the best branch is marked, and how sure it is better is explained
    expect(`${table} tr[data-branch="Offer A"]`).toHaveClass("o_ma_split_best");
    expect(`${table} tr[data-branch="Offer A"] .fa-trophy`).toHaveCount(1);
    expect(`${table} tr[data-branch="Offer B"]`).not.toHaveClass("o_ma_split_best");
    expect(`${table} tr[data-branch="Offer B"] .o_ma_split_sure`).toHaveAttribute(
        "title",
        "p = 0.021: 98% sure that the best branch is better"
    );
    expect(`${block("Which offer?")} .o_ma_split_summary`).toHaveText(
        "Compared on the click rate. Best so far: Offer A."
    );
    // its own graph is one tab away
    await contains(`${block("Which offer?")} .o_ma_tab_graph`).click();
    expect(`${block("Which offer?")} .o_ma_split_table`).toHaveCount(0);
    await contains(`${block("Which offer?")} .o_ma_tab_split`).click();

    // Promote asks first, then promotes on the server and reloads the figures
    await contains(`${table} tr[data-branch="Offer B"] .o_ma_split_promote`).click();
    expect(".modal-body").toHaveText(
        "Everyone who reaches the split from now on goes down this branch; the participants already in another branch stay there."
    );
    await contains(".modal .btn-primary").click();
    expect.verifySteps(["promote [8]", "metrics 2"]);
    expect(`${table} tr[data-branch="Offer B"] .o_ma_split_promoted`).toHaveText("Promoted");
    expect(`${table} tr[data-branch="Offer B"] .o_ma_split_promote`).toHaveCount(0);
    expect(`${table} tr[data-branch="Offer A"] .o_ma_split_promote`).toHaveCount(1);
});

test("a split without enough participants says so", async () => {
    onRpc("marketing.campaign", "get_workflow_metrics", () => ({
        1: metrics({
            split_on_goal: true,
            split_results: [
                {
                    activity_id: 2,
                    name: "Thanks",
                    participants: 3,
                    sent: 3,
                    opened_rate: 0,
                    clicked_rate: 0,
                    replied_rate: 0,
                    goal_reached_rate: 33.3,
                    promoted: false,
                    best: false,
                    p_value: null,
                },
            ],
        }),
    }));
    await mountView({
        type: "form",
        resModel: "marketing.campaign",
        resId: 1,
        // a read-only workflow: nothing to promote
        arch: CAMPAIGN_FORM.replace('widget="marketing_workflow"', 'widget="marketing_workflow" readonly="1"'),
    });
    const table = `${block("Welcome mail")} .o_ma_split_table`;
    expect(queryAllTexts(`${table} thead th`)).toEqual([
        "Branch",
        "People",
        "Sent",
        "Opened",
        "Clicked",
        "Replied",
        "Goal",
        "Sure",
    ]);
    expect(`${table} .o_ma_split_promote`).toHaveCount(0);
    expect(`${table} .o_ma_split_goal`).toHaveText("33.3%");
    expect(`${table} .o_ma_split_sure`).toHaveText("–");
    expect(`${table} .o_ma_split_sure`).toHaveAttribute("title", "Not enough data yet");
    expect(`${block("Welcome mail")} .o_ma_split_summary`).toHaveText(
        "Compared on the goal rate. Not enough data yet."
    );
    expect.verifySteps(["vocabulary"]);
});

test("a trigger without a delay reads at once", () => {
    const label = (trigger_type, interval_number) =>
        triggerLabel(WORKFLOW_VOCABULARY, { trigger_type, interval_number, interval_type: "hours" });
    expect(label("mail_click", 0)).toBe("Clicked, at once");
    expect(label("mail_click", 2)).toBe("Clicked after 2 Hours");
    expect(label("begin", 0)).toBe("At once");
    expect(label("activity", 0)).toBe("right after");
    expect(label("mail_not_open", 0)).toBe("Not opened within 0 Hours");
});
