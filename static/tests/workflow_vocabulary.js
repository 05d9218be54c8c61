// The server's vocabulary (marketing.activity's get_workflow_vocabulary(), in
// English) that the hoot tests' server answers: tests/test_ui_workflow_vocabulary.py
// checks that it is the same.
export const WORKFLOW_VOCABULARY = {
    "activity_types": {
        "email": {
            "label": "Email",
            "icon": "fa-envelope",
            "measures": [
                "sent",
                "open",
                "reply",
                "click",
                "bounce"
            ]
        },
        "sms": {
            "label": "SMS",
            "icon": "fa-mobile",
            "measures": [
                "sent",
                "click",
                "bounce"
            ]
        },
        "action": {
            "label": "Server Action",
            "icon": "fa-gears",
            "measures": []
        },
        "split": {
            "label": "A/B split",
            "icon": "fa-code-fork",
            "measures": []
        },
        "tag": {
            "label": "Tag",
            "icon": "fa-tag",
            "measures": []
        },
        "mailing_list": {
            "label": "Mailing List",
            "icon": "fa-list-ul",
            "measures": []
        },
        "plan_activity": {
            "label": "Plan an Activity",
            "icon": "fa-calendar-check-o",
            "measures": []
        },
        "note": {
            "label": "Log a Note",
            "icon": "fa-sticky-note-o",
            "measures": []
        },
        "set_field": {
            "label": "Update a Field",
            "icon": "fa-pencil-square-o",
            "measures": []
        }
    },
    "triggers": {
        "begin": {
            "label": "%(delay)s",
            "label_now": "At once",
            "root": true,
            "awaited": false
        },
        "date": {
            "label": "%(delay)s",
            "label_now": "%(delay)s",
            "root": true,
            "awaited": false
        },
        "activity": {
            "label": "after %(delay)s",
            "label_now": "right after",
            "root": false,
            "awaited": false
        },
        "mail_open": {
            "label": "Opened after %(delay)s",
            "label_now": "Opened, at once",
            "root": false,
            "awaited": "Opened"
        },
        "mail_not_open": {
            "label": "Not opened within %(delay)s",
            "label_now": "Not opened within %(delay)s",
            "root": false,
            "awaited": false
        },
        "mail_reply": {
            "label": "Replied after %(delay)s",
            "label_now": "Replied, at once",
            "root": false,
            "awaited": "Replied"
        },
        "mail_not_reply": {
            "label": "Not replied within %(delay)s",
            "label_now": "Not replied within %(delay)s",
            "root": false,
            "awaited": false
        },
        "mail_click": {
            "label": "Clicked after %(delay)s",
            "label_now": "Clicked, at once",
            "root": false,
            "awaited": "Clicked"
        },
        "mail_not_click": {
            "label": "Not clicked within %(delay)s",
            "label_now": "Not clicked within %(delay)s",
            "root": false,
            "awaited": false
        },
        "mail_bounce": {
            "label": "Bounced after %(delay)s",
            "label_now": "Bounced, at once",
            "root": false,
            "awaited": "Bounced"
        },
        "sms_click": {
            "label": "Clicked after %(delay)s",
            "label_now": "Clicked, at once",
            "root": false,
            "awaited": "Clicked"
        },
        "sms_not_click": {
            "label": "Not clicked within %(delay)s",
            "label_now": "Not clicked within %(delay)s",
            "root": false,
            "awaited": false
        },
        "sms_bounce": {
            "label": "Bounced after %(delay)s",
            "label_now": "Bounced, at once",
            "root": false,
            "awaited": "Bounced"
        }
    },
    "child_triggers": {
        "email": [
            [
                "activity",
                "After the activity"
            ],
            [
                "mail_open",
                "Opened"
            ],
            [
                "mail_not_open",
                "Not opened"
            ],
            [
                "mail_reply",
                "Replied"
            ],
            [
                "mail_not_reply",
                "Not replied"
            ],
            [
                "mail_click",
                "Clicked"
            ],
            [
                "mail_not_click",
                "Not clicked"
            ],
            [
                "mail_bounce",
                "Bounced"
            ]
        ],
        "sms": [
            [
                "activity",
                "After the activity"
            ],
            [
                "sms_click",
                "Clicked"
            ],
            [
                "sms_not_click",
                "Not clicked"
            ],
            [
                "sms_bounce",
                "Bounced"
            ]
        ],
        "action": [
            [
                "activity",
                "After the activity"
            ]
        ],
        "split": [
            [
                "activity",
                "After the activity"
            ]
        ],
        "tag": [
            [
                "activity",
                "After the activity"
            ]
        ],
        "mailing_list": [
            [
                "activity",
                "After the activity"
            ]
        ],
        "plan_activity": [
            [
                "activity",
                "After the activity"
            ]
        ],
        "note": [
            [
                "activity",
                "After the activity"
            ]
        ],
        "set_field": [
            [
                "activity",
                "After the activity"
            ]
        ]
    },
    "delay_units": {
        "hours": [
            "Hour",
            "Hours"
        ],
        "days": [
            "Day",
            "Days"
        ],
        "weeks": [
            "Week",
            "Weeks"
        ],
        "months": [
            "Month",
            "Months"
        ]
    },
    "measures": {
        "processed": "Success",
        "rejected": "Rejected",
        "error": "Failed",
        "sent": "Sent",
        "open": "Opened",
        "reply": "Replied",
        "click": "Clicked",
        "bounce": "Bounced"
    },
    "state_colors": {
        "scheduled": "warning",
        "processed": "success",
        "rejected": "info",
        "canceled": "secondary",
        "error": "danger"
    },
    "participant_state_colors": {
        "running": "info",
        "completed": "success",
        "unlinked": "secondary"
    }
};
