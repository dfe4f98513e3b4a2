"""The network-facing stages, built from the config: the AWS check, translation, and SMTP delivery.

Each is None when the run skips it (an option, or nothing configured); the pipeline then says in the
summary what it did not do. Translation needs the open state (its cache and the glossary id), so the
services are built once the state is open.
"""

from __future__ import annotations

from collections.abc import Mapping

from triage import paths
from triage.config import Config
from triage.notify import smtp_sender
from triage.pipeline import ScanOptions, Services
from triage.state import State
from triage.translate import RetryPolicy, translation_service


def services_from_config(config: Config, options: ScanOptions, env: Mapping[str, str], *, state: State,
                         deepl_retry: RetryPolicy | None = None) -> Services:
    """`deepl_retry`: the `deepl` library's retries and timeout for this run (tests); None keeps its own."""
    send = None
    if not (options.no_send or options.offline) and config.smtp is not None:
        send = smtp_sender(config.smtp, config.notify.to, env)
    translate = None
    if not (options.no_translate or options.offline):
        translate = translation_service(config.deepl, env, state, glossary_path=paths.rules_dir(env) / "glossary.tsv",
                                        retry=deepl_retry)
    return Services(check_account=None, translate=translate, send=send)
