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
    # the events it counts as too (a click or a reply is also an open)
    implies: frozenset
    # the mailing.trace status that signals it (a click has only a date)
    status: str | None
    # the mailing.trace date field that records it (a bounce has only a status)
    date_field: str | None
    # the mailing.trace statuses that count it in the statistics
    counted_statuses: tuple
    # why a "not <event>" child or any child it makes impossible is canceled
    cancel_reason: object
    # the message never arrived: only children triggered by this event or by
    # the activity itself can still run
    voids_others: bool = False

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


@dataclass(frozen=True)
class Trigger:
    """When an activity starts counting its delay."""

    key: str
    name: str
    # the activity type its parent must have (None: any parent, or none at all)
    parent_type: str | None = None
    # the event of the parent's message it depends on
    event: str | None = None
    # positive: it waits for the event; negative: it runs unless the event happened
    positive: bool = True
    # how the workflow shows it, with its delay
    label: object = None


EVENTS = {
    event.name: event
    for event in (
        Event(
            "open",
            frozenset({"open"}),
            "open",
            "open_datetime",
            ("open", "reply"),
            _lt("Canceled: the parent message was opened."),
        ),
        Event(
            "reply",
            frozenset({"reply", "open"}),
            "reply",
            "reply_datetime",
            ("reply",),
            _lt("Canceled: the parent message was replied to."),
        ),
        Event(
            "click",
            frozenset({"click", "open"}),
            None,
            "links_click_datetime",
            (),
            _lt("Canceled: a link of the parent message was clicked."),
        ),
        Event(
            "bounce",
            frozenset({"bounce"}),
            "bounce",
            None,
            ("bounce",),
            _lt("Canceled: the parent message bounced."),
            voids_others=True,
        ),
    )
}
# the mailing.trace statuses of a message that left (the "Sent" statistic)
SENT_STATUSES = ("pending", "sent", "open", "reply", "bounce")

TRIGGERS = {
    trigger.key: trigger
    for trigger in (
        Trigger("begin", "beginning of workflow"),
        Trigger("date", "Date of the record"),
        Trigger("activity", "another activity", label=_lt("after %(delay)s")),
        Trigger("mail_open", "Mail: opened", "email", "open", True, _lt("Opened after %(delay)s")),
        Trigger(
            "mail_not_open",
            "Mail: not opened",
            "email",
            "open",
            False,
            _lt("Not opened within %(delay)s"),
        ),
        Trigger(
            "mail_reply", "Mail: replied", "email", "reply", True, _lt("Replied after %(delay)s")
        ),
        Trigger(
            "mail_not_reply",
            "Mail: not replied",
            "email",
            "reply",
            False,
            _lt("Not replied within %(delay)s"),
        ),
        Trigger(
            "mail_click", "Mail: clicked", "email", "click", True, _lt("Clicked after %(delay)s")
        ),
        Trigger(
            "mail_not_click",
            "Mail: not clicked",
            "email",
            "click",
            False,
            _lt("Not clicked within %(delay)s"),
        ),
        Trigger(
            "mail_bounce", "Mail: bounced", "email", "bounce", True, _lt("Bounced after %(delay)s")
        ),
        Trigger("sms_click", "SMS: clicked", "sms", "click", True, _lt("Clicked after %(delay)s")),
        Trigger(
            "sms_not_click",
            "SMS: not clicked",
            "sms",
            "click",
            False,
            _lt("Not clicked within %(delay)s"),
        ),
        Trigger(
            "sms_bounce", "SMS: bounced", "sms", "bounce", True, _lt("Bounced after %(delay)s")
        ),
    )
}

# triggers of root activities (no parent): scheduled when a participant enrols
ROOT_TRIGGERS = ("begin", "date")
TRIGGER_SELECTION = [(trigger.key, trigger.name) for trigger in TRIGGERS.values()]
# triggers that wait for an event: their traces have no date until it happens
WAITING_TRIGGERS = tuple(
    key for key, trigger in TRIGGERS.items() if trigger.event and trigger.positive
)
