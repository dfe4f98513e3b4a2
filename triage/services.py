"""The network-facing stages, built from the config: the AWS check, translation, and SMTP delivery.

Each is None when the run skips it (an option, or nothing configured); the pipeline then says in the
summary what it did not do. Translation needs the open state (its cache and the glossary id), so the
services are built once the state is open.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from triage import paths
from triage.errors import RefusedAwsCall, TriageError
from triage.pipeline import AccountCheck, ScanOptions, Services

if TYPE_CHECKING:
    from triage.account.report import CheckResult
    from triage.cases import Case
    from triage.config import Config
    from triage.state import State
    from triage.translate import RetryPolicy

log = logging.getLogger(__name__)

# The texts (templates/texts.toml keys, named by rules) of an AWS Organizations notice: a new account in the
# Organization. With [aws] organization_role, such a case sweeps every account of the Organization.
ORGANIZATION_TEXTS = frozenset({"early-org-account"})


def services_from_config(config: Config, options: ScanOptions, env: Mapping[str, str], *, state: State,
                         deepl_retry: RetryPolicy | None = None) -> Services:
    """`deepl_retry`: the `deepl` library's retries and timeout for this run (tests); None keeps its own."""
    send = None
    if not (options.no_send or options.offline) and config.smtp is not None:
        from triage.notify import smtp_sender

        send = smtp_sender(config.smtp, config.notify.to, env)
    translate = None
    if not (options.no_translate or options.offline):  # each stage is imported only when the run uses it
        from triage.translate import translation_service

        translate = translation_service(config.deepl, env, state, glossary_path=paths.rules_dir(env) / "glossary.tsv",
                                        retry=deepl_retry)
    check = None if (options.no_aws or options.offline) else account_check(config, env)
    return Services(check_account=check, translate=translate, send=send)


def account_check(config: Config, env: Mapping[str, str]) -> AccountCheck:
    """The AWS check for one security case. A check that cannot run is said in the summary, not raised;
    a refused write is a bug and ends the run."""
    rules_dir = paths.rules_dir(env)

    def check(case: Case) -> CheckResult:
        from triage.account import AccountNotChecked, check_accounts

        entities = [m.classification.entities for m in case.mails]
        named = {i for e in entities for i in (*e.instance_ids, *e.access_key_ids)}
        accounts = tuple(dict.fromkeys(a for e in entities for a in e.account_ids))
        notice = any(m.classification.text in ORGANIZATION_TEXTS for m in case.mails)
        try:
            report = check_accounts(config.aws, config.billing, named_accounts=accounts, organization_notice=notice,
                                    incident_start=case.first_date, named_ids=named, rules_dir=rules_dir)
            # One account (the one the mail names, or the default credentials'): its report on its own.
            many = len(report.reports) > 1 or report.management_account or report.organization_gap
            return report if many else report.reports[0]
        except RefusedAwsCall:
            raise
        except TriageError as exc:
            log.warning("case %s: the AWS account was not checked: %s", case.case_id, exc)
            return AccountNotChecked(str(exc))
        except Exception:  # a bug in the check must not keep the owner's summary from going out
            log.exception("case %s: the AWS account check failed", case.case_id)
            return AccountNotChecked("internal error in triage's account check; see the log")

    return check
