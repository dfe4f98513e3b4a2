"""The template environment: what a template prints is inert unless triage wrote it, macros included, and
compiled code from another environment (another triage version, a plain jinja2) is never reused."""

from __future__ import annotations

import tempfile
from pathlib import Path

import jinja2
import pytest

from triage.inert import Trusted
from triage.templating import environment

MACRO = """{% macro step(link, name) -%}
Delete the user {{ name }}.
Screen: {{ link }}
{%- endmacro %}
{% set line = step(link, name) %}{{ line }}
"""


@pytest.fixture()
def templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # jinja2's cache folder lives here
    (tmp_path / "tmp").mkdir()
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "step.txt.j2").write_text(MACRO, encoding="utf-8")
    return folder


def _render(folder: Path) -> str:
    link = Trusted("https://console.aws.amazon.com/iam/home#/users")
    return environment(folder, {}).get_template("step.txt.j2").render(link=link, name="evil.example.com")


def test_a_macro_keeps_its_lines_and_triages_links_while_mail_values_stay_inert(templates: Path) -> None:
    text = _render(templates)
    assert text == ("Delete the user evil[.]example[.]com.\n"
                    "Screen: https://console.aws.amazon.com/iam/home#/users\n")


def test_code_compiled_by_a_plain_environment_is_not_reused(templates: Path) -> None:
    # Another program (or an older triage without the inert rule) compiled the same template source into
    # the same per-user cache folder first.
    plain = jinja2.Environment(loader=jinja2.FileSystemLoader(templates),
                               bytecode_cache=jinja2.FileSystemBytecodeCache(), trim_blocks=True)
    assert "evil.example.com" in plain.get_template("step.txt.j2").render(link="x", name="evil.example.com")
    assert "evil[.]example[.]com" in _render(templates)


def test_the_cache_is_used_on_the_second_run(templates: Path) -> None:
    first = _render(templates)
    cached = list(Path(tempfile.gettempdir()).rglob("__triage_*.cache"))
    assert cached, "the compiled template was not kept"
    assert _render(templates) == first
