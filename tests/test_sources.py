"""Local sources: mbox, Maildir, a folder of .eml, one .eml — the same records as IMAP for the same mails."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import mails
from tests.scanning import run
from tests.test_imap import append
from tests.test_imap import source as imap_source
from triage.errors import SourceError
from triage.sources.files import open_path
from triage.state import open_state

AWS = mails.aws_related()


def _records(src) -> list[dict[str, object]]:
    with open_state(":memory:") as state:
        got, _ = run(src, state)
    return sorted(got.messages, key=lambda m: str(m["message_id"]))


@pytest.fixture
def imap_records(imap_user) -> list[dict[str, object]]:
    append(imap_user, AWS + mails.unrelated())
    return _records(imap_source(imap_user))


@pytest.mark.parametrize("kind", ["mbox", "maildir", "eml-folder"])
def test_local_source_matches_imap(kind, imap_records, tmp_path):
    everything = AWS + mails.unrelated()
    path = {
        "mbox": lambda: mails.write_mbox(tmp_path / "inbox.mbox", everything),
        "maildir": lambda: mails.write_maildir(tmp_path / "Maildir", everything),
        "eml-folder": lambda: mails.write_eml_folder(tmp_path / "emls", everything),
    }[kind]()
    assert _records(open_path(path)) == imap_records
    assert len(imap_records) == len(AWS)


def test_single_eml_matches_imap(imap_records, tmp_path):
    singles = []
    for i, m in enumerate(AWS):
        (tmp_path / f"{i}.eml").write_bytes(m)
        singles += _records(open_path(tmp_path / f"{i}.eml"))
    assert sorted(singles, key=lambda m: str(m["message_id"])) == imap_records


def test_mbox_keeps_every_message_apart(tmp_path):
    path = mails.write_mbox(tmp_path / "box", AWS)  # no .mbox suffix: recognised by its "From " line
    src = open_path(path)
    with open_state(":memory:") as state:
        batches = list(src.batches(state, rescan=False))
    assert sum(len(b.mails) for b in batches) == len(AWS)
    assert all(m.data.startswith(b"Authentication-Results:") for b in batches for m in b.mails)


def test_maildir_junk_subfolder_is_read(tmp_path):
    root = mails.write_maildir(tmp_path / "Maildir", [mails.newsletter(1)])
    mails.write_maildir(root / ".Junk", [mails.compromise_notice(1)])
    assert [r["message_id"] for r in _records(open_path(root))] == ["<case-17100200301-1@support.amazon.com>"]


def test_malformed_files_are_skipped_and_counted(tmp_path, caplog):
    folder = mails.write_eml_folder(tmp_path / "emls", [mails.compromise_notice(1)])
    (folder / "empty.eml").write_bytes(b"")
    (folder / "junk.eml").write_bytes(bytes(range(256)) * 8)
    (folder / "zz.eml").write_bytes(mails.budget_alert())
    with open_state(":memory:") as state:
        got, totals = run(open_path(folder), state)
    assert totals.skipped == 2
    assert got.message_ids == ["<budget-1@budgets.amazonaws.com>", "<case-17100200301-1@support.amazon.com>"]
    assert "empty.eml" in caplog.text and "junk.eml" in caplog.text


@pytest.mark.parametrize("setup, message", [
    (lambda p: p / "missing", "does not exist"),
    (lambda p: _write(p / "notes.mbox", b"Hello, this is not an mbox\n"), "not an mbox file"),
    (lambda p: _mkdir(p / "empty-dir"), "holds no .eml files"),
])
def test_bad_source_paths(setup, message, tmp_path):
    path = setup(tmp_path)
    with pytest.raises(SourceError, match=message), open_state(":memory:") as state:
        list(open_path(path).batches(state, rescan=False))


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def test_mail_read_before_a_source_failure_is_kept(tmp_path):
    from triage.mail import Origin, RawMail
    from triage.sources import Batch

    class Failing:
        name = "failing"

        def batches(self, state, *, rescan):
            yield Batch((RawMail(mails.compromise_notice(1), Origin("test", "box", 1)),))
            raise SourceError("lost the connection")

    with open_state(tmp_path / "state") as state:
        got, totals = run(Failing(), state)
        assert state.is_seen("<case-17100200301-1@support.amazon.com>")
    assert str(totals.interrupted) == "lost the connection"
    assert got.message_ids == ["<case-17100200301-1@support.amazon.com>"]
