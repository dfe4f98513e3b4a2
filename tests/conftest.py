"""Shared fixtures: real local servers (Dovecot, SMTP); DeepL and AWS stand-ins come as plugins."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import dovecot as dovecot_server
from tests import smtp as smtp_server

pytest_plugins = ["tests.deepl_server", "tests.aws_server"]


@pytest.fixture(scope="session")
def dovecot() -> Iterator[dovecot_server.Dovecot]:
    yield from dovecot_server.start()


@pytest.fixture
def imap_user(dovecot: dovecot_server.Dovecot) -> dovecot_server.ImapUser:
    """A fresh IMAP user with an empty INBOX (and Junk), for one test."""
    return dovecot.add_user()


@pytest.fixture
def smtp() -> Iterator[smtp_server.SmtpServer]:
    yield from smtp_server.start()
