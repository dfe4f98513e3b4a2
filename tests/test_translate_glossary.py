"""The glossary: AWS's words as the console shows them, made once on the account, remade only on change."""

import shutil

import pytest

from tests.deepl_server import MARK
from tests.translate_helpers import GLOSSARY, case_of, fixture, stage
from triage.errors import RulesError
from triage.state import open_state
from triage.translate.glossary import load_glossary


def test_service_names_stay_english_and_console_words_are_the_consoles_japanese():
    g = load_glossary(GLOSSARY).as_dict()
    for name in ("Amazon EC2", "AWS CloudTrail", "GuardDuty", "IAM", "Cost Explorer", "AWS Budgets",
                 "Billing and Cost Management", "AWS Lambda", "AMI", "VPC"):
        assert g[name] == name
    assert g["Region"] == "リージョン"
    assert g["root user"] == "ルートユーザー"
    assert g["access key"] == "アクセスキー"
    assert g["Billing"] == "請求"
    assert g["Availability Zone"] == "アベイラビリティーゾーン"
    assert g["Support Center"] == "サポートセンター"
    assert g["GuardDuty finding"] == "GuardDuty の検出結果"
    assert g["security group"] == "セキュリティグループ"
    assert g["Lambda function"] == "Lambda 関数"


def test_version_changes_with_entries_but_not_with_comments(tmp_path):
    a, b, c = tmp_path / "a.tsv", tmp_path / "b.tsv", tmp_path / "c.tsv"
    a.write_text("Region\tリージョン\nroot user\tルートユーザー\n", encoding="utf-8")
    b.write_text("# a comment\n\nroot user\tルートユーザー\nRegion\tリージョン\n", encoding="utf-8")
    c.write_text("Region\tリージョン\nroot user\tルートユーザ\n", encoding="utf-8")
    assert load_glossary(a).version == load_glossary(b).version
    assert load_glossary(a).version != load_glossary(c).version


@pytest.mark.parametrize("content", ["Region リージョン\n", "Region\t\n", "Region\tA\nRegion\tB\n", "# only\n"])
def test_a_malformed_glossary_is_a_rules_error(tmp_path, content):
    path = tmp_path / "g.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RulesError, match=r"g\.tsv"):
        load_glossary(path)


def glossary_creations(server):
    return [p for p in server.paths() if p == "POST /v3/glossaries"]


def test_created_once_across_two_runs_and_used_for_every_request(deepl_server, tmp_path):
    db = tmp_path / "state.sqlite3"
    with open_state(db) as state:
        stage(deepl_server, state)(case_of(fixture("01-compromised-account.eml")))
    with open_state(db) as state:
        stage(deepl_server, state)(case_of(fixture("04-exposed-credentials.eml")))
    assert len(glossary_creations(deepl_server)) == 1
    (glossary_id,) = deepl_server.glossaries
    assert f"GET /v3/glossaries/{glossary_id}" in deepl_server.paths()  # run 2 checked it still exists
    requests = deepl_server.translate_requests()
    assert len(requests) >= 2
    assert all(r.json["glossary_id"] == glossary_id and r.json["source_lang"] == "EN" for r in requests)


def test_glossary_terms_shape_the_translation(deepl_server):
    with open_state(":memory:") as state:
        t = stage(deepl_server, state)(case_of(fixture("01-compromised-account.eml")))
    text = "\n".join(line.text for p in t.mails[0].paragraphs for line in p)
    assert "ルートユーザー" in text and "リージョン" in text and "Amazon EC2" in text
    assert MARK in text


def test_changed_entries_replace_the_glossary_and_its_translations(deepl_server, tmp_path):
    path = tmp_path / "glossary.tsv"
    shutil.copy(GLOSSARY, path)
    db = tmp_path / "state.sqlite3"
    case = case_of(fixture("01-compromised-account.eml"))
    with open_state(db) as state:
        stage(deepl_server, state, glossary=path)(case)
    (old_id,) = deepl_server.glossaries
    sent_before = len(deepl_server.translate_requests())

    path.write_text(path.read_text(encoding="utf-8") + "Unauthorized\t不正な\n", encoding="utf-8")
    with open_state(db) as state:
        t = stage(deepl_server, state, glossary=path)(case)
    (new_id,) = deepl_server.glossaries
    assert new_id != old_id
    assert f"DELETE /v3/glossaries/{old_id}" in deepl_server.paths()
    assert deepl_server.glossaries[new_id].entries["Unauthorized"] == "不正な"
    assert len(deepl_server.translate_requests()) > sent_before  # the old translations do not count any more
    assert any("不正な" in line.text for p in t.mails[0].paragraphs for line in p)


def test_a_comment_does_not_replace_the_glossary(deepl_server, tmp_path):
    path = tmp_path / "glossary.tsv"
    shutil.copy(GLOSSARY, path)
    db = tmp_path / "state.sqlite3"
    with open_state(db) as state:
        stage(deepl_server, state, glossary=path)(case_of(fixture("01-compromised-account.eml")))
    path.write_text("# reviewed by the team\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    with open_state(db) as state:
        stage(deepl_server, state, glossary=path)(case_of(fixture("04-exposed-credentials.eml")))
    assert len(glossary_creations(deepl_server)) == 1


def test_a_glossary_gone_from_the_account_is_made_again(deepl_server, tmp_path):
    db = tmp_path / "state.sqlite3"
    with open_state(db) as state:
        stage(deepl_server, state)(case_of(fixture("01-compromised-account.eml")))
    deepl_server.glossaries.clear()  # deleted on DeepL's website, or another key
    with open_state(db) as state:
        t = stage(deepl_server, state)(case_of(fixture("04-exposed-credentials.eml")))
    assert len(glossary_creations(deepl_server)) == 2
    (glossary_id,) = deepl_server.glossaries
    assert deepl_server.translate_requests()[-1].json["glossary_id"] == glossary_id
    assert t is not None and t.problem == ""


def test_without_glossary_nothing_is_made(deepl_server):
    with open_state(":memory:") as state:
        t = stage(deepl_server, state, glossary=None)(case_of(fixture("01-compromised-account.eml")))
    assert t is not None and t.any_translated
    assert not glossary_creations(deepl_server)
    assert all("glossary_id" not in r.json for r in deepl_server.translate_requests())
