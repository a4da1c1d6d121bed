"""A real SMTP server (aiosmtpd) for tests that send email: an inbox on a free port and
Django's mail settings pointing at it. Tests take it through an `smtp` fixture."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


class Inbox:
    """An aiosmtpd handler keeping every message it accepts; `refuse` makes it answer
    every message with a temporary failure (a mail server having a bad minute), and
    `per_connection` refuses messages past that many on one connection."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse = False
        self.port = 0
        self.per_connection = 0  # more messages on one connection are refused (421); 0: any

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.per_connection and getattr(session, "taken", 0) >= self.per_connection:
            return "421 Too many messages on this connection"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 Try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        session.taken = getattr(session, "taken", 0) + 1
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def smtp_server(settings: Any) -> Iterator[Inbox]:
    """Start the server, point Django's mail at it, stop it afterwards."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.DEFAULT_FROM_EMAIL = "Tandem <tandem@example.com>"
    try:
        yield inbox
    finally:
        controller.stop()


def plain_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()
