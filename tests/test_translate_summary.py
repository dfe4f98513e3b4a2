"""The translation as the owner reads it, and the wiring from `triage scan` to DeepL."""

import io
from datetime import UTC, datetime

import pytest

from tests.translate_helpers import FIXTURES, ROOT, case_of, fixture
from triage.cli import Environment, main
from triage.config import Config
from triage.render import load_texts, render_summary
from triage.translate import Line, MailTranslation, Translation

TEXTS = load_texts(ROOT / "templates")
CASE = case_of(fixture("01-compromised-account.eml"))
STAGES = {"aws_skipped": True, "translation_skipped": False}
WHEN = datetime(2026, 11, 10, 6, 12, tzinfo=UTC)


def summary(translation, stages=STAGES):
    return render_summary(CASE, TEXTS, account=None, translation=translation, options=stages,
                          jpy_per_usd=Config().billing.jpy_per_usd).text


def translated_mail(status="translated", **kw):
    return MailTranslation(
        subject="[ACTION REQUIRED] Your AWS account 210987654321 may be compromised",
        date=WHEN,
        status=status,
        paragraphs=((Line("お客様の AWS アカウント 2109-8765-4321 で、第三者によるアクセスが検出されました。", True),),
                    (Line("1. ルートユーザーのパスワードを変更してください。", True),
                     Line("2. Delete any access keys you did not create.", status != "partial"))),
        **kw,
    )


def test_the_translation_reads_as_a_section_of_the_summary():
    text = summary(Translation((translated_mail(),)))
    assert "■ メールに書かれていること（日本語訳）" in text
    assert "[2026年11月10日（火）午後3時12分（日本時間）に届いたメール]" in text
    assert "1. ルートユーザーのパスワードを変更してください。" in text
    assert "DeepL による機械翻訳です。" in text
    assert "英語のまま" not in text


@pytest.mark.parametrize(("problem", "said"), [
    ("quota", "DeepL の翻訳文字数が今月の上限に達したため、今回は翻訳を止めました。"),
    ("unauthorized", "DeepL が認証キーを受け付けなかったため、翻訳できませんでした。"),
    ("unavailable", "DeepL が混み合っているか障害が起きているため、翻訳できませんでした。"),
])
def test_each_fault_is_said_in_japanese_with_the_original_shown(problem, said):
    original = MailTranslation(subject="[ACTION REQUIRED] Your AWS account", date=WHEN,
                               status="original",
                               paragraphs=((Line("We have detected activity in your AWS account.", False),),))
    text = summary(Translation((original,), problem=problem))
    assert said in text
    assert "翻訳できなかったため、英語の原文をそのまま載せます。" in text
    assert "We have detected activity in your AWS account." in text


def test_partly_translated_lines_are_marked():
    text = summary(Translation((translated_mail("partial", rejected=1),)))
    assert "［原文］2. Delete any access keys you did not create." in text
    assert "間違いを避けるため英語のままにしています" in text


def test_japanese_empty_and_cut_mails_are_explained():
    mails = (MailTranslation("【重要】", WHEN, "japanese"),
             MailTranslation("Re:", WHEN, "empty"),
             translated_mail(truncated=True))
    text = summary(Translation(mails))
    assert "このメールは日本語で書かれているため、翻訳していません。" in text
    assert "このメールには、引用や定型文のほかに本文がありません。" in text
    assert "長いメールのため、ここまでを翻訳しました。" in text


def test_hidden_links_are_explained():
    mail = MailTranslation("Subject", WHEN, "translated", ((Line("返信は [URL] から。", True),),))
    assert "メールの中のリンクは [URL] と書き換えています。" in summary(Translation((mail,)))
    assert "[URL] と書き換えています" not in summary(Translation((translated_mail(),)))


def test_without_translation_a_security_summary_says_so():
    assert "今回は翻訳をしない設定で実行したため" in summary(None, {**STAGES, "translation_skipped": True})
    assert "メール本文の日本語訳はありません。" in summary(None)


# --- `triage scan`: services built with the open state, DeepL reached through [deepl] server_url ------

def scan(deepl_server, tmp_path, *extra, key=True):
    config = tmp_path / "config.toml"
    config.write_text(f'[deepl]\nserver_url = "{deepl_server.url}"\n', encoding="utf-8")
    config.chmod(0o600)
    out, err = io.StringIO(), io.StringIO()
    environ = {"HOME": str(tmp_path), "TRIAGE_DATA_DIR": str(ROOT)}
    if key:
        environ["DEEPL_AUTH_KEY"] = deepl_server.auth_key
    code = main(["scan", "--config", str(config), "--source", str(FIXTURES), "--state", str(tmp_path / "s.db"),
                 "--no-send", "--no-aws", *extra], Environment(stdout=out, stderr=err, environ=environ))
    assert code == 0, err.getvalue()
    return out.getvalue()


def test_scan_translates_and_a_second_scan_costs_nothing(deepl_server, tmp_path):
    first = scan(deepl_server, tmp_path)
    assert "■ メールに書かれていること（日本語訳）" in first
    assert "ルートユーザー" in first and "【訳】" in first
    billed, requests = deepl_server.billed(), len(deepl_server.requests)
    assert billed > 0
    second = scan(deepl_server, tmp_path, "--all")
    assert (deepl_server.billed(), len(deepl_server.requests)) == (billed, requests)
    assert "【訳】" in second


def test_scan_without_a_key_does_not_translate(deepl_server, tmp_path):
    out = scan(deepl_server, tmp_path, key=False)
    assert "今回は翻訳をしない設定で実行したため" in out
    assert deepl_server.requests == []


def test_scan_with_no_translate_does_not_translate(deepl_server, tmp_path):
    out = scan(deepl_server, tmp_path, "--no-translate")
    assert "今回は翻訳をしない設定で実行したため" in out
    assert deepl_server.requests == []
