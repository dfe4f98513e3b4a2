"""The jinja2 environment every template renders in, and the one rule it enforces: a value printed by a
template is made inert (triage.inert) unless triage wrote it.

- `{{ value }}` passes `finalize`: a `Trusted` text (templates/texts.toml, a console link triage built), a
  `Markup` part, a number or None is printed as it is; anything else (a mail's Subject, an address, a name
  from the AWS account) is made inert.
- A macro's output is `Trusted`: every value printed inside it already passed `finalize` there, and the rest
  is the template's own text. Without this, `{{ step_line(step) }}` would be made inert a second time, which
  breaks triage's own links and joins the lines of a multi-line macro into one.
- Compiled templates are cached between runs, under a name that holds a fingerprint of this module and of
  jinja2's version: a template's compiled code depends on these options as well as on its source, and code
  compiled by another version of triage must never be reused (it may lack the inert rule).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from triage.inert import Trusted, has_hidden_chars, inert

if TYPE_CHECKING:
    from collections.abc import Callable

    import jinja2


def environment(templates_dir: Path, filters: dict[str, Callable[..., Any]]) -> jinja2.Environment:
    """The environment for `templates_dir` (jinja2 is imported here, on first use), with triage's
    filters (`inert`, `instance_type`) and the caller's (`filters`, e.g. date and money formats)."""
    import jinja2
    from jinja2.compiler import CodeGenerator, Frame

    class _Generator(CodeGenerator):
        def return_buffer_contents(self, frame: Frame, force_unescaped: bool = False) -> None:
            if force_unescaped:  # the end of a macro's (or a call block's) body
                self.writeline(f"return environment.composed(concat({frame.buffer}))")
                return
            super().return_buffer_contents(frame, force_unescaped)

    class _Environment(jinja2.Environment):
        code_generator_class = _Generator
        composed = staticmethod(Trusted)

    env = _Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        bytecode_cache=_bytecode_cache(jinja2.__version__),
        # A template is read once per environment: the data set was checked when the run started, and a
        # daemon builds a new environment when it reloads. Otherwise every render asks the file's mtime.
        auto_reload=False,
        autoescape=jinja2.select_autoescape(["html.j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        finalize=shown,
    )
    env.tests["hidden_chars"] = has_hidden_chars
    env.filters.update(inert=_inert_filter, instance_type=instance_type, **filters)
    return env


def shown(value: object) -> object:
    """What a template prints: texts of triage as they are, anything else made inert."""
    import markupsafe  # comes with jinja2: only called while a template renders

    if isinstance(value, (Trusted, markupsafe.Markup, int, float)) or value is None:
        return value
    return inert(str(value))


_INSTANCE_TYPE = re.compile(r"[a-z][a-z0-9-]*\.[a-z0-9]+")  # g4dn.xlarge: AWS's own name, not a host


def instance_type(value: object) -> Trusted:
    """`|instance_type`: an EC2 instance type as AWS spells it (no host to defang); anything else inert."""
    text = str(value)
    return Trusted(text) if _INSTANCE_TYPE.fullmatch(text) else Trusted(inert(text))


def _inert_filter(value: object) -> Trusted:
    """`|inert` in a template: the value made inert once, and not again when printed."""
    return Trusted(inert(str(value)))


def cache_fingerprint(jinja_version: str) -> str:
    """What the compiled code depends on besides a template's source: this module (the options, the code
    generator, the filters) and jinja2's version."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(jinja_version.encode())
    return digest.hexdigest()[:16]


def _bytecode_cache(jinja_version: str) -> jinja2.BytecodeCache | None:
    """Compiled templates kept between runs (compiling them took longer than the rest of a small scan).
    jinja2's per-user folder in the temp dir, which it creates private and refuses if someone else owns
    it. None when unusable."""
    import jinja2

    try:
        pattern = f"__triage_{cache_fingerprint(jinja_version)}_%s.cache"
        return jinja2.FileSystemBytecodeCache(pattern=pattern)
    except (OSError, RuntimeError):
        return None
