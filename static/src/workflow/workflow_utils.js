import { _t } from "@web/core/l10n/translation";
import { sprintf } from "@web/core/utils/strings";

/** An activity type of the vocabulary: its label, icon and measures. */
export function activityType(vocabulary, type) {
    return vocabulary.activity_types[type] || { label: "", icon: "", measures: [] };
}

/**
 * The delay and trigger of an activity as the workflow shows them, formatted
 * as the server formats its trigger_label: "1 Hour", "after 3 Weeks",
 * "Opened after 2 Hours", "Opened, at once", "Not opened within 3 Days".
 */
export function triggerLabel(vocabulary, { interval_number, interval_type, trigger_type }) {
    const [singular, plural] = vocabulary.delay_units[interval_type] || ["", ""];
    const delay = `${interval_number} ${interval_number === 1 ? singular : plural}`;
    const trigger = vocabulary.triggers[trigger_type];
    if (!trigger) {
        return delay;
    }
    return sprintf(interval_number ? trigger.label : trigger.label_now, { delay });
}

/** The trigger that does not fit the parent, as the server's check words it, or "". */
export function triggerParentError(vocabulary, triggerType, parentType, hasParent) {
    const trigger = vocabulary.triggers[triggerType];
    if (!trigger) {
        return "";
    }
    if (trigger.root) {
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
    const valid = (vocabulary.child_triggers[parentType] || []).map(([key]) => key);
    if (!valid.includes(triggerType)) {
        return _t("This trigger needs a parent of another type than %(type)s.", {
            type: activityType(vocabulary, parentType).label,
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
