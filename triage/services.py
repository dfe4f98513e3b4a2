"""The network-facing stages, built from the config: the AWS check, translation, and SMTP delivery.

Each is None when the run skips it (an option, or nothing configured); the pipeline then says in the
summary what it did not do.
"""

from __future__ import annotations

from collections.abc import Mapping

from triage.config import Config
from triage.notify import smtp_sender
from triage.pipeline import ScanOptions, Services


def services_from_config(config: Config, options: ScanOptions, env: Mapping[str, str]) -> Services:
    send = None
    if not (options.no_send or options.offline) and config.smtp is not None:
        send = smtp_sender(config.smtp, config.notify.to, env)
    return Services(check_account=None, translate=None, send=send)
