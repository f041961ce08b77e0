"""The project's modules import without cycles: module-level imports between bot, handlers, scheduler and storage
form a DAG (imports inside functions, and those under TYPE_CHECKING, are left out: they run later or never)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "scheduler", "storage")


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, known: set[str], everywhere: bool = False) -> set[str]:
    found = set()
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree) if everywhere else tree.body:  # module level only, unless asked
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            # `from handlers import updates` depends on the submodule; `from bot.jobs import JobRunner` on bot.jobs.
            subs = [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in known]
            names = subs if len(subs) == len(node.names) else [node.module, *subs]
        found |= {n for n in names if n in known}
    return found


def import_graph(everywhere: bool = False) -> dict[str, set[str]]:
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if "migrations" not in p.parts]
    known = {_module(p) for p in files}
    return {_module(p): _imports(p, known, everywhere) - {_module(p)} for p in files}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}  # state: 1 = on the path, 2 = done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_the_modules_import_without_cycles():
    assert cycles(import_graph()) == []


def test_the_job_runner_and_the_scheduler_know_no_feature_by_name():
    graph = import_graph(everywhere=True)  # not even inside a function: features are handed to them
    leaves = ["bot.jobs", *(m for m in graph if m.split(".")[0] == "scheduler")]
    assert "scheduler.kinds" in leaves
    for leaf in leaves:
        assert not {m for m in graph[leaf] if m.startswith("handlers")}, leaf
