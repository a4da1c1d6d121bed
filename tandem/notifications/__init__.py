"""Notifications: the bell with its unread count, and the same news by email.

Other apps tell users through `services.notify(users, kind=..., title=..., key=...,
body="", url="")` (or `notify_many` for a batch). `key` names what the news is about,
so repeating a call is harmless: one notification per user and key, one email each
(e.g. "handoff:<handoff id>", "sla_breach:<handoff id>", "send_back:<handoff id>").
`url` is a path inside Tandem (anything else is refused). Call it inside the write's
transaction: the emails go out from a task after the commit (emails.py), and the
worker's loop retries those that failed.
"""
