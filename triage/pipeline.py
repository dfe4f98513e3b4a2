"""One scan: source → parse → authenticate → classify → cases → check account → translate → render → notify.

This module runs the stages (triage.stages) over what the source hands it and moves each mailbox's
checkpoint; the records a scan runs with are triage.context's. Output goes to a `Reporter`; this module
never prints. A mailbox's checkpoint moves only past mail that was recorded, and only when every case's
delivery succeeded.

A scan with nothing new imports no stage: the stages, and the rules and texts of the context, are loaded
when the first mail (or unreadable mail) arrives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from triage.context import AccountCheck as AccountCheck  # re-exported: the records a scan runs with
from triage.context import Context as Context
from triage.context import Reporter as Reporter
from triage.context import ScanOptions as ScanOptions
from triage.context import ScanTotals as ScanTotals
from triage.context import Send as Send
from triage.context import Services as Services
from triage.context import Translate as Translate
from triage.context import lazy_context as lazy_context
from triage.context import load_context as load_context
from triage.errors import SourceError
from triage.state import Mailbox, State

if TYPE_CHECKING:
    from triage.cases import ClassifiedMail
    from triage.sources import Source


def scan(ctx: Context, source: Source, state: State, reporter: Reporter) -> ScanTotals:
    totals = ScanTotals()
    items: list[ClassifiedMail] = []
    checkpoints = []
    interrupted: SourceError | None = None
    try:
        handed = 0
        for batch in source.batches(state, rescan=ctx.options.all_mail):
            if batch.mails or batch.unreadable:
                from triage.stages import read_batch  # the stages: imported once there is mail to read

                items.extend(read_batch(ctx, batch, state, reporter, totals))
            handed += len(batch.mails) + len(batch.unreadable)
            reporter.progress(handed, batch.total)
            if batch.checkpoint is not None:
                checkpoints.append(batch.checkpoint)
    except SourceError as exc:
        if not items and not checkpoints:
            raise
        interrupted = exc  # what was read before the source failed is still handled and kept
    delivered_all = True
    if items:
        from triage.stages import handle_mails

        delivered_all = handle_mails(ctx, state, reporter, totals, items)
    if delivered_all:
        with state.transaction():
            for checkpoint in checkpoints:
                state.set_mailbox(checkpoint.mailbox, Mailbox(checkpoint.uidvalidity, checkpoint.last_uid))
    if interrupted is not None:
        totals.interrupted = interrupted
    return totals
