"""The team's labelled corpus: every mail's kind, severity and authenticity, as `triage scan --offline`
decides them; the composition the issue asks for; and the scan's JSON lines on the whole folder."""

import io
import json
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from tests.corpus_report import judge, learned, load_labels, table, verdicts, without_account_ids
from triage.classify import load_rules
from triage.cli import Environment, main
from triage.mail import Origin, RawMail
from triage.parse import parse_mail
from triage.severity import at_least

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
SETTINGS, LABELS = load_labels()
RULES = load_rules(ROOT / "rules")


KNOWN = learned(RULES, without_account_ids(SETTINGS), sorted(LABELS))


@pytest.mark.parametrize("account_ids", ["labels", "unset"])
@pytest.mark.parametrize("name", sorted(LABELS))
def test_golden(name, account_ids):
    """Every label holds with the labels' [aws] account_ids, and with none (the accounts then learned)."""
    label = LABELS[name]
    if account_ids == "labels":
        auth, result = judge(name, RULES, SETTINGS)
    else:
        auth, result = judge(name, RULES, without_account_ids(SETTINGS), KNOWN)
    assert (result.kind, result.severity, auth) == (label["kind"], label["severity"], label["authenticity"]), (
        f"{name}: rule {result.rule}, matched {result.matched}, signals {result.evidence}")
    if "rule" in label:  # the trick (or the precise rule) the mail is there to show
        assert label["rule"] in result.matched


def test_every_labelled_file_exists_and_every_file_is_labelled():
    assert {p.name for p in CORPUS.glob("*.eml")} == set(LABELS)


def test_composition():
    kinds = Counter(label["kind"] for label in LABELS.values())
    assert len(LABELS) >= 80
    assert set(kinds) == set(RULES.kinds)
    assert kinds["marketing"] >= 10
    phishing = [label for label in LABELS.values() if label["kind"] == "phishing"]
    assert all("trick" in label and "rule" in label for label in phishing)
    assert len({label["trick"] for label in phishing}) == len(phishing) >= 12  # one mail per trick
    assert len({label["rule"] for label in phishing}) >= 10  # caught by that many different rules
    assert {label["authenticity"] for label in LABELS.values()} == {"pass", "fail", "none"}


@pytest.mark.parametrize(("name", "charset", "encoding", "words"), [
    ("health-japanese-iso2022jp-7bit.eml", "iso-2022-jp", "7bit", "メンテナンス期間"),
    ("marketing-japanese-shiftjis.eml", "shift_jis", "base64", "① 東京会場"),  # ① exists only in CP932
    ("statement-japanese-eucjp.eml", "euc-jp", "base64", "ご請求金額"),
    ("compromise-japanese-utf8-base64.eml", "utf-8", "base64", "不正なアクセス"),
])
def test_japanese_mails_in_four_charsets(name, charset, encoding, words):
    raw = (CORPUS / name).read_bytes()
    head = raw.split(b"\n\n", 1)[0].decode("ascii").lower()
    assert f'charset="{charset}"' in head and f"content-transfer-encoding: {encoding}" in head
    mail = parse_mail(RawMail(raw, Origin("eml", name)))
    assert words in mail.text


@pytest.mark.parametrize("account_ids", [True, False], ids=["labels", "unset"])
def test_acceptance_security_kinds_found_phish_caught_no_genuine_mail_called_phishing(account_ids):
    results = verdicts(account_ids=account_ids)
    for v in results:
        if at_least(v.label["severity"], "high"):
            assert v.kind == v.label["kind"], v.name
        if v.label["kind"] == "phishing":
            assert v.kind == "phishing", v.name
        else:
            assert v.kind != "phishing", v.name
    phishing = sum(v.label["kind"] == "phishing" for v in results)
    assert f"| phishing | {phishing} | {phishing} | {phishing} | 100% | 100% |" in table(results)
    security = [v for v in results if RULES.kinds[v.label["kind"]].security]
    assert security and all(at_least(v.severity, "high") for v in security)


def test_a_scan_of_the_whole_corpus_with_no_account_ids_calls_no_genuine_mail_phishing(tmp_path):
    """The real pipeline, default config: the owner's SNS topics are trusted once AWS's own mail named their
    accounts, even when that mail comes later in the folder; every label holds."""
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, environ={"XDG_CONFIG_HOME": str(tmp_path)})
    status = main(["scan", "--source", str(CORPUS), "--offline", "--json", "--all", "--state",
                   str(tmp_path / "state.db")], env)
    assert status == 0, err.getvalue()
    messages = [m for m in map(json.loads, out.getvalue().splitlines()) if m["type"] == "message"]
    by_subject: dict[tuple[str, str], set[str]] = {}
    for m in messages:
        by_subject.setdefault((m["from"], m["subject"]), set()).add(m["kind"])
    for name, label in LABELS.items():
        mail = parse_mail(RawMail((CORPUS / name).read_bytes(), Origin("eml", name)))
        assert label["kind"] in by_subject[(mail.sender.address, mail.subject)], name
    assert sum(m["kind"] == "phishing" for m in messages) == sum(lb["kind"] == "phishing" for lb in LABELS.values())
    # A genuine alert from the owner's topic, whose account a later mail of the folder taught.
    budget = next(m for m in messages
                  if m["subject"] == "AWS Notification Message" and "604718293551" in m["account_ids"])
    assert budget["kind"] == "billing-alert"


def test_scan_json_lines_carry_the_contract_fields(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, environ={"XDG_CONFIG_HOME": str(tmp_path)})
    status = main(["scan", "--source", str(CORPUS), "--offline", "--json", "--all", "--state", ":memory:"], env)
    assert status == 0, err.getvalue()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    messages = [line for line in lines if line["type"] == "message"]
    assert len(messages) == len(LABELS)
    for m in messages:
        assert {"kind", "severity", "authenticity", "rule", "case_id", "account_ids"} <= set(m)
        assert m["kind"] in RULES.kinds and isinstance(m["account_ids"], list)
    subject = "RE:[CASE 17412093581] [ACTION REQUIRED] Your AWS account 730156284913"
    genuine = next(m for m in messages if m["subject"] == subject and m["from"] == "no-reply-aws@amazon.com")
    # The genuine follow-up and the phish that copies its subject's case number: different cases.
    phishes = [m for m in messages if m["kind"] == "phishing" and "17412093581" in m["subject"]]
    assert genuine["case_id"] == "17412093581" and genuine["account_ids"] == ["730156284913"]
    assert phishes and all(p["case_id"].startswith("mail-") for p in phishes)
    case = next(line for line in lines if line["type"] == "case" and line["case_id"] == "17412093581")
    assert case["kind"] == "compromised-account" and len(case["message_ids"]) == 3


def test_labels_file_is_valid_toml_with_settings():
    data = tomllib.loads((CORPUS / "labels.toml").read_text(encoding="utf-8"))
    assert data["settings"]["account_ids"]


def test_every_class_of_issue_13_has_mails_of_its_own_from_several_senders():
    by_class: dict[int, list[str]] = {}
    for name, label in LABELS.items():
        if label.get("class"):
            by_class.setdefault(int(label["class"]), []).append(name)
    assert sorted(by_class) == [1, 2, 3, 4, 5, 6]
    for number, names in by_class.items():
        senders = {str(parse_mail(RawMail((CORPUS / n).read_bytes(), Origin("eml", n))).sender) for n in names}
        assert len(names) >= 5 and len(senders) >= 3, (number, names)
