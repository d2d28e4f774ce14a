"""Every file, folder and module the contributor docs name exists in the tree.

Why: CONTRIBUTING.md and docs/architecture.md are the map a contributor follows to add an estimator or a
phrase; after modules move (``bootstrap/ci.py`` → ``intervals.py``, the moderation stage → ``analyses/``) a
stale path sends them to a file that is not there.  This test reads the two documents and checks:

* a path with a file extension (``model/fit_groups.py``, ``render/phrases/estimator.yaml``,
  ``tests/reference/design/design_reference.json``) exists relative to the repository root, ``cluster_sem/``
  or ``tests/``; ``<section>`` and ``*`` are wildcards that must match at least one file;
* a bare test file name (``test_controls_lavaan.py``) exists in ``tests/``, any other bare ``name.py`` somewhere
  below ``cluster_sem/``;
* a slashed module path with a name after it (``model/admissibility.admissible``, ``render/report.Results``)
  names a module that exists and defines (or imports) that name; a slashed path without extension whose first
  part is a folder of the tree (``model/interaction``, ``bootstrap/``) is a folder or module that exists.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BASES = (ROOT, ROOT / "cluster_sem", ROOT / "tests")
DOCS = ("CONTRIBUTING.md", "docs/architecture.md")
EXTENSIONS = {"py", "yaml", "yml", "json", "R", "j2", "csv", "md", "toml", "txt"}

SLASHED = re.compile(r"(?<![\w./<{*-])((?:[\w<>*-]+/)+[\w.<>*-]*)")
BARE = re.compile(r"(?<![\w./-])([A-Za-z_]\w*\.(?:py|yaml|j2))(?![\w/])")


def _glob(base: Path, rel: str) -> list[Path]:
    pattern = re.sub(r"<[^>]*>", "*", rel)
    if "*" in pattern:
        return sorted(base.glob(pattern))
    path = base / pattern
    return [path] if path.exists() else []


def _defines(module: Path, name: str) -> bool:
    text = module.read_text(encoding="utf-8")
    return re.search(rf"(?:def|class)\s+{name}\b|^\s*{name}\s*[:=]|import[^\n]*\b{name}\b|\bas\s+{name}\b",
                     text, re.M) is not None


def _module_file(base: Path, dotted_dirs: str) -> Path | None:
    for candidate in (base / f"{dotted_dirs}.py", base / dotted_dirs / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def problem(token: str) -> str | None:
    """Why ``token`` (a slashed reference) does not resolve, or None when it does / is not a path."""
    token = token.rstrip(".,;:)")
    last = token.rstrip("/").rsplit("/", 1)[-1]
    ext = last.rsplit(".", 1)[-1] if "." in last else ""
    if ext in EXTENSIONS:
        return None if any(_glob(base, token) for base in BASES) else f"{token}: no such file"
    first = token.split("/", 1)[0]
    bases = [b for b in BASES if (b / first).is_dir() or (b / f"{first}.py").is_file()]
    if not bases:
        return None                      # prose like "en/zh" or "n_g/N", not a path
    if "." not in last:
        ok = any((b / token).exists() or (b / f"{token.rstrip('/')}.py").is_file() for b in bases)
        return None if ok else f"{token}: no such folder or module"
    head = token[: len(token) - len(last)] + last.split(".", 1)[0]
    name = last.split(".", 1)[1].split(".", 1)[0]
    modules = [m for b in bases if (m := _module_file(b, head)) is not None]
    if not modules:
        return f"{token}: no module {head}.py"
    return None if any(_defines(m, name) for m in modules) else f"{token}: {head}.py does not define {name}"


def bare_problem(name: str) -> str | None:
    if name.startswith("test_"):
        return None if (ROOT / "tests" / name).is_file() else f"{name}: not in tests/"
    found = next((ROOT / "cluster_sem").rglob(name), None)
    return None if found is not None else f"{name}: no such file below cluster_sem/"


def problems(text: str) -> list[str]:
    found = [problem(t) for t in SLASHED.findall(text)] + [bare_problem(n) for n in BARE.findall(text)]
    return sorted({p for p in found if p})


@pytest.mark.parametrize("doc", DOCS)
def test_every_path_the_doc_names_exists(doc):
    assert problems((ROOT / doc).read_text(encoding="utf-8")) == []


def test_the_check_finds_stale_paths():
    """The checker itself: a moved file, a missing folder, a name the module lacks and an unknown test fail;
    prose with slashes and real references pass."""
    assert problems("see `bootstrap/ci_rules.py` and `model/admissibility.nonexistent_name`") == [
        "bootstrap/ci_rules.py: no such file",
        "model/admissibility.nonexistent_name: model/admissibility.py does not define nonexistent_name"]
    assert problems("`test_no_such_thing.py`, `model/nowhere/`") == [
        "model/nowhere/: no such folder or module", "test_no_such_thing.py: not in tests/"]
    assert problems("en/zh, n_g/N, `model/admissibility.admissible`, `render/phrases/<section>.yaml`, "
                    "`render/report.Results`, `tests/test_architecture.py`, `intervals.py`") == []


OUTSIDE = re.compile(r"shared/reference|\.\./shared|/work/")


def test_tests_read_reference_files_from_the_repository_only():
    """CONTRIBUTING.md's rule: reference outputs are copied into tests/reference/; no test reads the shared
    folder they came from (or any absolute path of one machine), so a clean clone runs the suite."""
    offenders = [f"{path.relative_to(ROOT)}:{n}" for path in sorted((ROOT / "tests").rglob("*.py"))
                 if path.name != Path(__file__).name
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if OUTSIDE.search(line)]
    assert offenders == []
