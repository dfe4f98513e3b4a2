"""The layers of triage/, checked on its import graph: data flows one way along the pipeline.

Every module has a stage (the table below, in the order of the flow). A module imports only modules of
its own or an earlier stage, and the graph has no cycle. The state is beside the flow: it imports only the
shared modules, and the pure stages (parse … case, render) never import it. No stage of the flow takes the
whole `Config`: the runners (the pipeline, the daemon, the CLI) hand each stage the values it uses.

Every import counts: at the top, inside a function (the lazy ones that keep boto3 or jinja2 unloaded) and
under TYPE_CHECKING. A new module fails here until it is given its stage.

`python -m tests.test_layers` prints the graph, stage by stage.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "triage"

# The flow of DESIGN.md, first to last; "shared" holds the records and helpers every stage may use,
# "run" the code that wires the stages together, "cli" the edge that parses and prints.
FLOW = ("shared", "source", "parse", "authenticate", "classify", "case", "check account", "translate", "render",
        "notify", "run", "cli")
STATE = "state"  # beside the flow
PURE = frozenset({"parse", "authenticate", "classify", "case", "render"})  # no I/O: no state either
FLOW_STAGES = frozenset(FLOW[1:FLOW.index("run")])  # take values, never the whole Config

STAGE_OF = {
    "shared": ("triage", "triage.errors", "triage.paths", "triage.backoff", "triage.inert", "triage.charsets",
               "triage.headers", "triage.mail", "triage.severity", "triage.kinds", "triage.config", "triage.utc",
               "triage.stored"),
    STATE: ("triage.state",),
    "source": ("triage.sources", "triage.sources.batches", "triage.sources.narrowing", "triage.sources.files",
               "triage.sources.imap", "triage.relevance", "triage.forwarders", "triage.oauth2"),
    "parse": ("triage.parse", "triage.mailparser_read", "triage.htmltext", "triage.unreadable"),
    "authenticate": ("triage.authenticate", "triage.forward", "triage.mail_providers"),
    "classify": ("triage.classify", "triage.entities", "triage.signals", "triage.lookalike"),
    "case": ("triage.cases", "triage.known_accounts", "triage.judging"),
    "check account": ("triage.account", "triage.account.*"),
    "translate": ("triage.translate", "triage.translate.*"),
    "render": ("triage.render", "triage.templating", "triage.inventory_csv"),
    "notify": ("triage.notify", "triage.outbox", "triage.answer", "triage.outcomes", "triage.output"),
    "run": ("triage.context", "triage.stages", "triage.pipeline", "triage.explain", "triage.services",
            "triage.daemon", "triage.status", "triage.dataset"),
    "cli": ("triage.cli", "triage.__main__", "triage.arguments", "triage.commands", "triage.logconfig",
            "triage.reporters", "triage.terminal"),
}


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def stage(module: str) -> str:
    for name, members in STAGE_OF.items():
        for member in members:
            if module == member or (member.endswith(".*") and module.startswith(member[:-1])):
                return name
    raise LookupError(module)


def imports(module: str, path: Path, known: dict[str, Path]) -> Iterator[tuple[str, str]]:
    """(imported module of triage, the name imported) for every import in `path`, wherever it stands."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [(a.name, "") for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, *([base] if base else [])])
            targets = [(f"{base}.{a.name}" if f"{base}.{a.name}" in known else base, a.name) for a in node.names]
        else:
            continue
        for target, name in targets:
            while target and target not in known:  # `import triage.account.records` names the module
                target = target.rpartition(".")[0]
            if target and target != module:
                yield target, name


def graph() -> dict[str, set[str]]:
    known = modules()
    return {m: {t for t, _ in imports(m, p, known)} for m, p in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def allowed(importer: str, imported: str) -> bool:
    a, b = stage(importer), stage(imported)
    if a == STATE:
        return b == "shared"
    if b == STATE:
        return a not in PURE and a != "shared"
    return FLOW.index(b) <= FLOW.index(a)


def test_every_module_has_a_stage():
    unplaced = []
    for m in modules():
        try:
            stage(m)
        except LookupError:
            unplaced.append(m)
    assert not unplaced, f"give these modules their stage in tests/test_layers.py: {unplaced}"


def test_the_module_graph_has_no_cycle():
    assert cycles(graph()) == []


def test_nothing_imports_from_a_later_stage():
    wrong = [f"{a} ({stage(a)}) imports {b} ({stage(b)})" for a, targets in graph().items() for b in sorted(targets)
             if not allowed(a, b)]
    assert wrong == []


def test_no_stage_of_the_flow_takes_the_whole_config():
    known = modules()
    takers = [m for m, p in known.items() if stage(m) in FLOW_STAGES
              for target, name in imports(m, p, known) if target == "triage.config" and name == "Config"]
    assert takers == []


def test_the_checks_see_what_they_check():
    """The rules above would pass on an empty graph: they must see the edges and reject the leaks."""
    edges = graph()
    assert "triage.sources.narrowing" in edges["triage.sources.imap"]
    assert "triage.account.report" in edges["triage.render"]  # a lazy import inside a function
    assert "triage.translate.records" in edges["triage.render"]  # an import under TYPE_CHECKING
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert not allowed("triage.render", "triage.state")
    assert not allowed("triage.account.report", "triage.output")
    assert not allowed("triage.state", "triage.cases")
    assert allowed("triage.translate.cache", "triage.state")


def test_the_graph_stage_by_stage(capsys):
    print(describe(graph()))
    assert "triage.pipeline" in capsys.readouterr().out


def describe(edges: dict[str, set[str]]) -> str:
    order = [*FLOW[:1], STATE, *FLOW[1:]]
    lines = []
    for name in order:
        members = sorted(m for m in edges if stage(m) == name)
        lines.append(f"[{name}]")
        lines.extend(f"  {m} -> {', '.join(sorted(edges[m])) or '-'}" for m in members)
    return "\n".join(lines)


if __name__ == "__main__":
    print(describe(graph()))
    print("cycles:", cycles(graph()) or "none")
