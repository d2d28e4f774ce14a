"""The import layering of ``cluster_sem``, declared once here and checked on every module's source.

Why a test: the layers of docs/architecture.md are only real if an upward import fails the suite.  Each
module belongs to the unit named by its first path component below ``cluster_sem`` (``model``,
``pipeline``, ``rng``, …; ``<root>`` is ``cluster_sem/__init__.py``, which holds ``__version__`` and
the exception classes).  A module may import its own unit and any unit of a *lower* layer — also inside a
function (a lazy import is still a dependency) — but no unit of its own layer or a higher one, and never
another unit's private (``_name``) names.  A new package fails ``test_every_unit_is_declared`` until it is
given a layer in ``LAYERS``.  (The public facade's lazy ``cluster_sem.__getattr__`` resolves ``fit``,
``Results``, … by name at attribute access: a convenience for users, not an import of any module.)
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "cluster_sem"

# Lowest first.  Units on one line are peers: they may not import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors",),
    ("special", "blas", "lavoptions", "chunks", "atomic", "<root>"),
    ("options", "intervals"),
    ("rng",),                                            # seed streams, Monte Carlo draws
    ("spec",),
    ("data",),
    ("model",),
    ("quality", "simulate", "bootstrap"),
    ("results",),
    ("render",),
    ("analyses",),                                       # stages used by the fit pipeline (moderation)
    ("pipeline",),
    ("invariance", "power", "library", "pls", "cmb"),
    ("api",),
    ("cli",),
)
RANK = {unit: i for i, layer in enumerate(LAYERS) for unit in layer}


@dataclass(frozen=True)
class Edge:
    source: str          # importing module, e.g. cluster_sem.model.fitted
    target: str          # imported module, e.g. cluster_sem.model.inference
    names: tuple[str, ...]
    line: int

    def where(self) -> str:
        return f"{self.source}:{self.line}"


def unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "<root>"


def _module_names() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


MODULES = _module_names()


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def edges_of(module: str, path: Path) -> tuple[list[Edge], list[Edge]]:
    """(imports of cluster_sem modules, attribute reads ``alias._name`` on imported cluster_sem modules)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    edges: list[Edge] = []
    aliases: dict[str, str] = {}          # local name -> cluster_sem module it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = _resolve(module, is_package, node)
            if not target.startswith("cluster_sem"):
                continue
            plain = []
            for a in node.names:
                sub = f"{target}.{a.name}"
                if sub in MODULES:            # `from . import api` imports the module cluster_sem.api
                    edges.append(Edge(module, sub, (), node.lineno))
                    aliases[a.asname or a.name] = sub
                else:
                    plain.append(a.name)
            if plain:
                edges.append(Edge(module, target, tuple(plain), node.lineno))
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("cluster_sem"):
                    edges.append(Edge(module, a.name, (), node.lineno))
                    if a.asname:
                        aliases[a.asname] = a.name
    reads = [Edge(module, aliases[n.value.id], (n.attr,), n.lineno) for n in ast.walk(tree)
             if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id in aliases
             and _private(n.attr)]
    return edges, reads


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def all_edges() -> tuple[list[Edge], list[Edge]]:
    edges, reads = [], []
    for module, path in sorted(MODULES.items()):
        e, r = edges_of(module, path)
        edges += e
        reads += r
    return edges, reads


def test_every_unit_is_declared():
    undeclared = sorted({unit(m) for m in MODULES} - set(RANK))
    assert not undeclared, f"give these packages/modules a layer in LAYERS (tests/test_architecture.py): {undeclared}"


def test_no_import_runs_upward_or_sideways():
    edges, _ = all_edges()
    bad = [f"{e.where()} imports {e.target} ({unit(e.source)} is layer {RANK.get(unit(e.source))}, "
           f"{unit(e.target)} is layer {RANK.get(unit(e.target))})"
           for e in edges if unit(e.source) != unit(e.target)
           and RANK.get(unit(e.target), -1) >= RANK.get(unit(e.source), -1)]
    assert not bad, "imports against the layer order (docs/architecture.md):\n" + "\n".join(bad)


def test_no_private_name_crosses_a_package():
    edges, reads = all_edges()
    bad = [f"{e.where()} takes {name} from {e.target}" for e in edges + reads
           if unit(e.source) != unit(e.target) for name in e.names if _private(name)]
    assert not bad, "private names used across packages (make them public where they belong):\n" + "\n".join(bad)


def test_the_checks_see_the_violations_they_forbid(tmp_path):
    """The scanner itself: an upward lazy import, a sibling import and a private import are all found."""
    path = tmp_path / "probe.py"
    path.write_text("from ..render.html import render_html\n"
                    "def f():\n    from ..bootstrap.ci import percentile_ci\n    from ..simulate import x\n"
                    "from ..pipeline import _num\nfrom .. import api as facade\ny = facade._private\n",
                    encoding="utf-8")
    edges, reads = edges_of("cluster_sem.quality.probe", path)
    targets = {e.target for e in edges}
    assert {"cluster_sem.render.html", "cluster_sem.bootstrap.ci", "cluster_sem.simulate",
            "cluster_sem.pipeline", "cluster_sem.api"} <= targets
    upward = [e for e in edges if RANK[unit(e.target)] >= RANK[unit(e.source)]]
    assert len(upward) == 5                   # render, bootstrap (a peer), simulate (a peer), pipeline, api
    assert [n for e in edges for n in e.names if _private(n)] == ["_num"]
    assert [(r.target, r.names) for r in reads] == [("cluster_sem.api", ("_private",))]
