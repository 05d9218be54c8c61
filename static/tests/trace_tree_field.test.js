import { defineMailModels } from "@mail/../tests/mail_test_helpers";
import { describe, expect, test } from "@odoo/hoot";
import { queryAllTexts } from "@odoo/hoot-dom";
import { animationFrame } from "@odoo/hoot-mock";
import {
    contains,
    defineModels,
    fields,
    makeServerError,
    models,
    mountView,
    onRpc,
} from "@web/../tests/web_test_helpers";
import { WORKFLOW_VOCABULARY } from "./workflow_vocabulary";

describe.current.tags("desktop");

class MarketingActivity extends models.Model {
    _name = "marketing.activity";

    name = fields.Char();

    _records = [
        { id: 1, name: "Welcome" },
        { id: 2, name: "Thanks" },
        { id: 3, name: "Reminder" },
        { id: 4, name: "Tag" },
    ];

    get_workflow_vocabulary() {
        return WORKFLOW_VOCABULARY;
    }
}

class MarketingParticipant extends models.Model {
    _name = "marketing.participant";

    is_test = fields.Boolean();
    trace_ids = fields.One2many({ relation: "marketing.trace", relation_field: "participant_id" });

    _records = [
        { id: 1, is_test: true, trace_ids: [4, 3, 2, 1] },
        { id: 2, is_test: false, trace_ids: [5] },
    ];
}

class MarketingTrace extends models.Model {
    _name = "marketing.trace";
    _order = "id desc";

    participant_id = fields.Many2one({ relation: "marketing.participant" });
    activity_id = fields.Many2one({ relation: "marketing.activity" });
    activity_type = fields.Selection({
        selection: [
            ["email", "Email"],
            ["sms", "SMS"],
            ["action", "Server Action"],
            ["split", "A/B split"],
        ],
    });
    trigger_type = fields.Selection({
        selection: [
            ["begin", "beginning of workflow"],
            ["activity", "another activity"],
            ["mail_open", "Mail: opened"],
            ["mail_not_open", "Mail: not opened"],
        ],
    });
    parent_id = fields.Many2one({ relation: "marketing.trace" });
    schedule_date = fields.Datetime();
    state = fields.Selection({
        selection: [
            ["scheduled", "Scheduled"],
            ["processed", "Processed"],
            ["rejected", "Rejected"],
            ["canceled", "Canceled"],
            ["error", "Error"],
        ],
    });
    state_msg = fields.Char();

    _records = [
        {
            id: 1,
            participant_id: 1,
            activity_id: 1,
            activity_type: "email",
            trigger_type: "begin",
            schedule_date: "2024-11-25 10:00:00",
            state: "processed",
        },
        {
            id: 2,
            participant_id: 1,
            activity_id: 2,
            activity_type: "action",
            trigger_type: "mail_open",
            parent_id: 1,
            state: "scheduled",
        },
        {
            id: 3,
            participant_id: 1,
            activity_id: 3,
            activity_type: "email",
            trigger_type: "mail_not_open",
            parent_id: 1,
            schedule_date: "2024-11-25 11:00:00",
            state: "canceled",
            state_msg: "Canceled: the parent message was opened.",
        },
        {
            id: 4,
            participant_id: 1,
            activity_id: 4,
            activity_type: "action",
            trigger_type: "activity",
            parent_id: 3,
            schedule_date: "2024-11-28 10:00:00",
            state: "scheduled",
        },
        {
            id: 5,
            participant_id: 2,
            activity_id: 1,
            activity_type: "email",
            trigger_type: "begin",
            schedule_date: "2024-11-26 10:00:00",
            state: "scheduled",
        },
    ];
}

defineMailModels();
defineModels([MarketingActivity, MarketingParticipant, MarketingTrace]);

const PARTICIPANT_FORM = `
    <form>
        <field name="is_test" invisible="1"/>
        <field name="trace_ids" widget="marketing_trace_tree" readonly="1">
            <list>
                <field name="activity_id"/>
                <field name="activity_type"/>
                <field name="trigger_type"/>
                <field name="parent_id"/>
                <field name="schedule_date"/>
                <field name="state"/>
                <field name="state_msg"/>
            </list>
        </field>
    </form>`;

const trace = (name) => `.o_ma_trace[data-activity="${name}"]`;

test("the test screen draws the traces as the workflow", async () => {
    await mountView({
        type: "form",
        resModel: "marketing.participant",
        resId: 1,
        arch: PARTICIPANT_FORM,
    });

    expect(queryAllTexts(".o_ma_trace .o_ma_trace_name")).toEqual([
        "Welcome",
        "Thanks",
        "Reminder",
        "Tag",
    ]);
    expect(
        [...document.querySelectorAll(".o_ma_trace")].map((el) => el.dataset.depth)
    ).toEqual(["0", "1", "1", "2"]);
    expect(queryAllTexts(".o_ma_trace .o_ma_trace_state")).toEqual([
        "Processed",
        "Scheduled",
        "Canceled",
        "Scheduled",
    ]);
    expect(`${trace("Welcome")} .o_ma_trace_state`).toHaveClass("text-bg-success");
    expect(`${trace("Reminder")} .o_ma_trace_state`).toHaveClass("text-bg-secondary");
    expect(`${trace("Thanks")} .o_ma_trace_waiting`).toHaveText("Waiting for: Opened");
    expect(`${trace("Thanks")} .o_ma_trace_date`).toHaveCount(0);
    expect(`${trace("Welcome")} .o_ma_trace_date`).toHaveText("11/25/2024 11:00:00");
    expect(`${trace("Tag")} .o_ma_trace_date`).toHaveText("Planned for 11/28/2024 11:00:00");
    expect(`${trace("Reminder")} .o_ma_trace_message`).toHaveText(
        "Canceled: the parent message was opened."
    );
    // only scheduled traces run
    expect(".o_ma_trace .o_ma_trace_run").toHaveCount(2);
    expect(`${trace("Welcome")} .o_ma_trace_run`).toHaveCount(0);
});

test("Run executes the trace and reloads the test", async () => {
    onRpc("marketing.trace", "action_execute", ({ args }) => {
        expect.step(`run ${args[0]}`);
        return true;
    });
    onRpc("marketing.participant", "web_read", () => {
        expect.step("reload");
    });
    await mountView({
        type: "form",
        resModel: "marketing.participant",
        resId: 1,
        arch: PARTICIPANT_FORM,
    });
    expect.verifySteps(["reload"]);

    await contains(`${trace("Thanks")} .o_ma_trace_run`).click();
    expect.verifySteps(["run 2", "reload"]);
});

test("a refused Run says why and shows the current states", async () => {
    // the mail queue failed the parent's email and canceled the trace since
    // the screen was drawn
    onRpc("marketing.trace", "action_execute", function ({ args }) {
        expect.step(`run ${args[0]}`);
        this.env["marketing.trace"].write(args[0], {
            state: "canceled",
            state_msg: "The email failed.",
        });
        throw makeServerError({
            description: "Thanks can no longer run: it is Canceled. The email failed.",
        });
    });
    await mountView({
        type: "form",
        resModel: "marketing.participant",
        resId: 1,
        arch: PARTICIPANT_FORM,
    });
    expect(`${trace("Thanks")} .o_ma_trace_state`).toHaveText("Scheduled");

    await contains(`${trace("Thanks")} .o_ma_trace_run`).click();
    await animationFrame();
    expect.verifySteps(["run 2"]);
    expect(".o_notification_content").toHaveText(
        "Thanks can no longer run: it is Canceled. The email failed."
    );
    expect(".o_error_dialog").toHaveCount(0);
    expect(`${trace("Thanks")} .o_ma_trace_state`).toHaveText("Canceled");
    expect(`${trace("Thanks")} .o_ma_trace_run`).toHaveCount(0);
    expect(`${trace("Thanks")} .o_ma_trace_message`).toHaveText("The email failed.");
});

test("the screen reads the traces again when it is shown again", async () => {
    await mountView({
        type: "form",
        resModel: "marketing.participant",
        resId: 1,
        arch: PARTICIPANT_FORM,
    });
    onRpc("marketing.participant", "web_read", () => {
        expect.step("reload");
    });
    document.dispatchEvent(new Event("visibilitychange"));
    await animationFrame();
    expect.verifySteps(["reload"]);
});

test("a real participant has no Run", async () => {
    await mountView({
        type: "form",
        resModel: "marketing.participant",
        resId: 2,
        arch: PARTICIPANT_FORM,
    });
    expect(`${trace("Welcome")} .o_ma_trace_state`).toHaveText("Scheduled");
    expect(".o_ma_trace_run").toHaveCount(0);
    expect(".o_ma_trace_cancel").toHaveCount(1);
});

test("Run on a test's A/B split shows the branch it chose", async () => {
    MarketingActivity._records.push({ id: 5, name: "Which offer?" });
    MarketingParticipant._records.push({ id: 3, is_test: true, trace_ids: [6] });
    MarketingTrace._records.push({
        id: 6,
        participant_id: 3,
        activity_id: 5,
        activity_type: "split",
        trigger_type: "begin",
        schedule_date: "2024-11-25 10:00:00",
        state: "scheduled",
    });
    onRpc("marketing.trace", "action_execute", function ({ args }) {
        expect.step(`run ${args[0]}`);
        this.env["marketing.trace"].write(args[0], {
            state: "processed",
            state_msg: "Branch: Offer B",
        });
        return true;
    });
    await mountView({
        type: "form",
        resModel: "marketing.participant",
        resId: 3,
        arch: PARTICIPANT_FORM,
    });
    expect(`${trace("Which offer?")} .fa-code-fork`).toHaveCount(1);
    expect(`${trace("Which offer?")} .o_ma_trace_branch`).toHaveCount(0);

    await contains(`${trace("Which offer?")} .o_ma_trace_run`).click();
    expect.verifySteps(["run 6"]);
    expect(`${trace("Which offer?")} .o_ma_trace_state`).toHaveText("Processed");
    expect(`${trace("Which offer?")} .o_ma_trace_branch`).toHaveText("Branch: Offer B");
});
