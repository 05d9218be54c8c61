import { _t } from "@web/core/l10n/translation";
import { sprintf } from "@web/core/utils/strings";

export const ACTIVITY_TYPES = {
    email: { icon: "fa-envelope", label: _t("Email") },
    sms: { icon: "fa-mobile", label: _t("SMS") },
    action: { icon: "fa-gears", label: _t("Server Action") },
};

const INTERVAL_LABELS = {
    hours: [_t("Hour"), _t("Hours")],
    days: [_t("Day"), _t("Days")],
    weeks: [_t("Week"), _t("Weeks")],
    months: [_t("Month"), _t("Months")],
};

const EVENT_LABELS = {
    mail_open: _t("Opened after %(delay)s"),
    mail_not_open: _t("Not opened within %(delay)s"),
    mail_reply: _t("Replied after %(delay)s"),
    mail_not_reply: _t("Not replied within %(delay)s"),
    mail_click: _t("Clicked after %(delay)s"),
    mail_not_click: _t("Not clicked within %(delay)s"),
    mail_bounce: _t("Bounced after %(delay)s"),
    sms_click: _t("Clicked after %(delay)s"),
    sms_not_click: _t("Not clicked within %(delay)s"),
    sms_bounce: _t("Bounced after %(delay)s"),
};

/**
 * The delay and trigger of an activity as the workflow shows them:
 * "1 Hour", "2 Days", "Opened after 2 Hours", "Not opened within 3 Days".
 */
export function triggerLabel({ interval_number, interval_type, trigger_type }) {
    const [singular, plural] = INTERVAL_LABELS[interval_type] || ["", ""];
    const delay = `${interval_number} ${interval_number === 1 ? singular : plural}`;
    const label = EVENT_LABELS[trigger_type];
    return label ? sprintf(String(label), { delay }) : delay;
}

/** The triggers a child can have, by the type of its parent (server: TRIGGER_PARENT_TYPES). */
export const CHILD_TRIGGERS = {
    email: [
        ["activity", _t("After the activity")],
        ["mail_open", _t("Opened")],
        ["mail_not_open", _t("Not opened")],
        ["mail_reply", _t("Replied")],
        ["mail_not_reply", _t("Not replied")],
        ["mail_click", _t("Clicked")],
        ["mail_not_click", _t("Not clicked")],
        ["mail_bounce", _t("Bounced")],
    ],
    sms: [
        ["activity", _t("After the activity")],
        ["sms_click", _t("Clicked")],
        ["sms_not_click", _t("Not clicked")],
        ["sms_bounce", _t("Bounced")],
    ],
    action: [["activity", _t("After the activity")]],
};

/** The trigger that does not fit the parent, as the server's check words it, or "". */
export function triggerParentError(triggerType, parentType, hasParent) {
    if (triggerType === "begin") {
        return hasParent
            ? _t("An activity that starts at the beginning of the workflow has no parent.")
            : "";
    }
    if (!hasParent) {
        return _t("Choose the parent activity of this trigger.");
    }
    if (!parentType) {
        return "";
    }
    const valid = CHILD_TRIGGERS[parentType].map(([trigger]) => trigger);
    if (!valid.includes(triggerType)) {
        return _t("This trigger needs a parent of another type than %(type)s.", {
            type: ACTIVITY_TYPES[parentType].label,
        });
    }
    return "";
}

/** The key under which the list knows a record, saved or not. */
export function recordKey(record) {
    return record.isNew ? record._virtualId : record.resId;
}

/**
 * The records of the list as a tree walked depth first: each row is
 * { record, depth, children } with children under their parent, in the
 * list's order. A record whose parent is not in the list is a root.
 */
export function buildTree(records, parentField = "parent_id") {
    const keys = new Set(records.map(recordKey));
    const childrenOf = new Map();
    const roots = [];
    for (const record of records) {
        const parentKey = record.data[parentField] && record.data[parentField][0];
        if (parentKey && keys.has(parentKey)) {
            if (!childrenOf.has(parentKey)) {
                childrenOf.set(parentKey, []);
            }
            childrenOf.get(parentKey).push(record);
        } else {
            roots.push(record);
        }
    }
    const rows = [];
    const walk = (record, depth) => {
        const children = childrenOf.get(recordKey(record)) || [];
        rows.push({ record, depth, children });
        for (const child of children) {
            walk(child, depth + 1);
        }
    };
    for (const root of roots) {
        walk(root, 0);
    }
    return { rows, childrenOf };
}

/** The record and every descendant of it. */
export function withDescendants(record, childrenOf) {
    const result = [record];
    for (const child of childrenOf.get(recordKey(record)) || []) {
        result.push(...withDescendants(child, childrenOf));
    }
    return result;
}
