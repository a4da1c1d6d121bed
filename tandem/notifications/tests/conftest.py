"""The SMTP server (tests/mailbox.py) with links in emails pointing at a public address."""

from __future__ import annotations

import pytest

from tests.mailbox import plain_body, smtp_server

__all__ = ["plain_body", "smtp"]


@pytest.fixture
def smtp(settings):
    with smtp_server(settings) as inbox:
        settings.TANDEM_BASE_URL = "https://crm.example.com"
        yield inbox
