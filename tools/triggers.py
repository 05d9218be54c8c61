"""The vocabulary of the engine: the events a message can have and the triggers
of an activity, in one table. Everything else is derived from it: the trigger
selection and its labels, which parent a trigger needs, what an event implies,
what it cancels and why, how it is detected on a ``mailing.trace`` and how it
counts in the statistics."""

from dataclasses import dataclass

from odoo.tools.translate import LazyTranslate

_lt = LazyTranslate(__name__)


@dataclass(frozen=True)
class Event:
    """Something that happened to a message sent by a campaign."""

    name: str
    # how the workflow names it: a figure of the activity, what a trace waits for
    label: object
    # the events it counts as too (a click or a reply is also an open)
    implies: frozenset
    # the mailing.trace status that signals it (a click has only a date)
    status: str | None
    # the mailing.trace date field that records it (a bounce has only a status)
    date_field: str | None
    # the mailing.trace statuses that count it in the statistics (none: its date counts)
    counted_statuses: tuple
    # why a "not <event>" child or any child it makes impossible is canceled
    cancel_reason: object
    # the message never arrived: only children triggered by this event or by
    # the activity itself can still run
    voids_others: bool = False
    # the events it proves can no longer happen (a reply proves the message
    # arrived: it will not bounce); their children are canceled
    excludes: frozenset = frozenset()

    def happened_in(self, vals):
        """Whether writing ``vals`` on a mailing trace records this event."""
        if self.status:
            return vals.get("trace_status") == self.status
        return bool(vals.get(self.date_field))

    def get_domain(self):
        """The mailing traces on which this event happened (the event itself,
        or any event that implies it)."""
        conditions = [
            leaf
            for event in EVENTS.values()
            if self.name in event.implies
            for leaf in (
                ([("trace_status", "=", event.status)] if event.status else [])
                + ([(event.date_field, "!=", False)] if event.date_field else [])
            )
        ]
        return ["|"] * (len(conditions) - 1) + conditions

    def get_counted_domain(self):
        """The mailing traces that count it in the statistics."""
        if self.counted_statuses:
            return [("trace_status", "in", self.counted_statuses)]
        return [(self.date_field, "!=", False)]


@dataclass(frozen=True)
class Trigger:
    """When an activity starts counting its delay."""

    key: str
    name: str
    # it starts the workflow: the activity has no parent (the others need one)
    root: bool = False
    # the activity type its parent must have (None: any parent, or none at all)
    parent_type: str | None = None
    # the event of the parent's message it depends on
    event: str | None = None
    # positive: it waits for the event; negative: it runs unless the event happened
    positive: bool = True
    # how the workflow shows it, with its delay (none: the delay alone)
    label: object = None
    # how the workflow shows it without a delay (none: as with one)
    label_now: object = None
    # how the menu that adds a child under a parent names it
    child_label: object = None


EVENTS = {
    event.name: event
    for event in (
        Event(
            name="open",
            label=_lt("Opened"),
            implies=frozenset({"open"}),
            status="open",
            date_field="open_datetime",
            counted_statuses=("open", "reply"),
            cancel_reason=_lt("Canceled: the parent message was opened."),
        ),
        Event(
            name="reply",
            label=_lt("Replied"),
            implies=frozenset({"reply", "open"}),
            status="reply",
            date_field="reply_datetime",
            counted_statuses=("reply",),
            cancel_reason=_lt("Canceled: the parent message was replied to."),
            excludes=frozenset({"bounce"}),
        ),
        Event(
            name="click",
            label=_lt("Clicked"),
            implies=frozenset({"click", "open"}),
            status=None,
            date_field="links_click_datetime",
            counted_statuses=(),
            cancel_reason=_lt("Canceled: a link of the parent message was clicked."),
            # a click proves the message arrived, as a reply does
            excludes=frozenset({"bounce"}),
        ),
        Event(
            name="bounce",
            label=_lt("Bounced"),
            implies=frozenset({"bounce"}),
            status="bounce",
            date_field=None,
            counted_statuses=("bounce",),
            cancel_reason=_lt("Canceled: the parent message bounced."),
            voids_others=True,
        ),
    )
}
# the mailing.trace statuses of a message that left (the "Sent" statistic)
SENT_STATUSES = ("pending", "sent", "open", "reply", "bounce")


TRIGGERS = {
    trigger.key: trigger
    for trigger in (
        Trigger(key="begin", name="beginning of workflow", root=True, label_now=_lt("At once")),
        Trigger(key="date", name="Date of the record", root=True),
        Trigger(
            key="activity",
            name="another activity",
            label=_lt("after %(delay)s"),
            label_now=_lt("right after"),
            child_label=_lt("After the activity"),
        ),
        Trigger(
            key="mail_open",
            name="Mail: opened",
            parent_type="email",
            event="open",
            label=_lt("Opened after %(delay)s"),
            label_now=_lt("Opened, at once"),
            child_label=_lt("Opened"),
        ),
        Trigger(
            key="mail_not_open",
            name="Mail: not opened",
            parent_type="email",
            event="open",
            positive=False,
            label=_lt("Not opened within %(delay)s"),
            child_label=_lt("Not opened"),
        ),
        Trigger(
            key="mail_reply",
            name="Mail: replied",
            parent_type="email",
            event="reply",
            label=_lt("Replied after %(delay)s"),
            label_now=_lt("Replied, at once"),
            child_label=_lt("Replied"),
        ),
        Trigger(
            key="mail_not_reply",
            name="Mail: not replied",
            parent_type="email",
            event="reply",
            positive=False,
            label=_lt("Not replied within %(delay)s"),
            child_label=_lt("Not replied"),
        ),
        Trigger(
            key="mail_click",
            name="Mail: clicked",
            parent_type="email",
            event="click",
            label=_lt("Clicked after %(delay)s"),
            label_now=_lt("Clicked, at once"),
            child_label=_lt("Clicked"),
        ),
        Trigger(
            key="mail_not_click",
            name="Mail: not clicked",
            parent_type="email",
            event="click",
            positive=False,
            label=_lt("Not clicked within %(delay)s"),
            child_label=_lt("Not clicked"),
        ),
        Trigger(
            key="mail_bounce",
            name="Mail: bounced",
            parent_type="email",
            event="bounce",
            label=_lt("Bounced after %(delay)s"),
            label_now=_lt("Bounced, at once"),
            child_label=_lt("Bounced"),
        ),
        Trigger(
            key="sms_click",
            name="SMS: clicked",
            parent_type="sms",
            event="click",
            label=_lt("Clicked after %(delay)s"),
            label_now=_lt("Clicked, at once"),
            child_label=_lt("Clicked"),
        ),
        Trigger(
            key="sms_not_click",
            name="SMS: not clicked",
            parent_type="sms",
            event="click",
            positive=False,
            label=_lt("Not clicked within %(delay)s"),
            child_label=_lt("Not clicked"),
        ),
        Trigger(
            key="sms_bounce",
            name="SMS: bounced",
            parent_type="sms",
            event="bounce",
            label=_lt("Bounced after %(delay)s"),
            label_now=_lt("Bounced, at once"),
            child_label=_lt("Bounced"),
        ),
    )
}

# triggers of root activities (no parent): scheduled when a participant enrols
ROOT_TRIGGERS = tuple(key for key, trigger in TRIGGERS.items() if trigger.root)
TRIGGER_SELECTION = [(trigger.key, trigger.name) for trigger in TRIGGERS.values()]
# triggers that wait for an event: their traces have no date until it happens
WAITING_TRIGGERS = tuple(
    key for key, trigger in TRIGGERS.items() if trigger.event and trigger.positive
)
# the icon of each activity type in the workflow (a type not listed gets the default)
ACTIVITY_TYPE_ICONS = {
    "email": "fa-envelope",
    "sms": "fa-mobile",
    "action": "fa-gears",
    "split": "fa-code-fork",
    "tag": "fa-tag",
    "mailing_list": "fa-list-ul",
    "plan_activity": "fa-calendar-check-o",
    "note": "fa-sticky-note-o",
    "set_field": "fa-pencil-square-o",
}
DEFAULT_ACTIVITY_TYPE_ICON = "fa-gears"
