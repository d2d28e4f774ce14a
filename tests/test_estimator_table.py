"""The estimator table (``cluster_sem/model/estimators``) is the one place estimators are declared.

Why: an estimator used to be filled into seven registries at import time and re-tested by name in five
packages; now each row names its fitters and stages, and the callers route through ``estimators.fit``.
These tests hold that shape: the table and ``lavoptions`` agree in both directions, every lazy reference
resolves, the plain ML fit does not import the ordinal modules, and no module outside the table tests an
estimator's name except the few listed below with their reason.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from cluster_sem.errors import FitError
from cluster_sem.lavoptions import ESTIMATORS, MISSING, LavOptions, resolved_options, verdict
from cluster_sem.model import estimators
from cluster_sem.model.estimators import TABLE, FitCall, fitter_of, resolve

PACKAGE = Path(__file__).resolve().parents[1] / "cluster_sem"


def _supported_pairs() -> set[tuple[str, str]]:
    """Estimator × missing pairs the support table lets ``fit`` run."""
    out = set()
    for est in ESTIMATORS:
        for missing in MISSING:
            row = verdict(resolved_options(est, missing).combination)
            if row is None or row.verdict != "refuse":
                out.add((est, missing))
    return out


def test_every_supported_pair_has_one_row_and_every_row_is_supported():
    pairs = [(r.estimator, r.missing) for r in TABLE]
    assert len(pairs) == len(set(pairs)), "two rows for one estimator × missing pair"
    assert set(pairs) == _supported_pairs()
    assert {r.estimator for r in TABLE} == set(ESTIMATORS)
    assert len({r.kind for r in TABLE}) == len(TABLE), "report kinds must name one row each"


def test_every_lazy_reference_resolves_to_a_callable():
    for row in TABLE:
        for ref in row.references():
            assert callable(resolve(ref)), f"{row.kind}: {ref}"


def test_every_row_names_a_bootstrap_engine_that_exists():
    """The bootstrap engine is read from the row; the names live in ``bootstrap/engines.py`` (a layer above)."""
    from cluster_sem.bootstrap.engines import ENGINES
    assert {r.bootstrap for r in TABLE} <= set(ENGINES)
    assert estimators.row("WLSMV", "listwise").bootstrap == "wlsmv"
    assert {r.bootstrap for r in TABLE if not r.categorical} == {"batched"}


def test_the_table_answers_what_callers_used_to_test_by_name():
    assert estimators.kind_of("mlr", "ml") == "FIML_MLR"
    assert estimators.kind_of(None, "listwise") == "ML"
    assert estimators.kind_of("WLSMV", "ml") == "WLSMV"           # no FIML row: its listwise row
    assert estimators.kind_of("GLS", "listwise") == "GLS"          # an estimator the table does not know
    assert estimators.delta_test("yuan.bentler.mplus").__name__ == "satorra_bentler_difference"
    assert estimators.delta_test("no.such.test") is None
    assert set(estimators.INVARIANCE_CONVENTIONS) == set(ESTIMATORS)
    lav = resolved_options("MLR", "fiml")
    assert estimators.conventions(lav).startswith("lavaan 0.6 (MLR with missing = \"ml\" (FIML)")


def test_the_advice_reads_categorical_and_fiml_from_the_tables():
    """The advice used to name WLSMV; now it asks whether the advised estimator is categorical and whether it
    has a FIML row (the rerun keeps ``--missing fiml`` only then)."""
    from cluster_sem.lavoptions import categorical
    from cluster_sem.results.estimator_choice import advised_estimator, rerun_options
    assert [categorical(e) for e in ("WLSMV", "wlsmv", "ML", "MLR", None, "GLS")] == \
        [True, True, False, False, False, False]
    assert advised_estimator("WLSMV", False) == "WLSMV"
    assert advised_estimator("ML", True) == "MLR"
    assert rerun_options("WLSMV", "ML", "ml") == "--estimator WLSMV --missing listwise"
    assert rerun_options("WLSMV", "MLR", "listwise") == "--estimator WLSMV"
    assert rerun_options("MLR", "ML", "ml") == "--estimator MLR --missing fiml"
    assert rerun_options("ML", "WLSMV", "listwise") == "--estimator ML"
    assert rerun_options("ML", "MLR", "ml") is None


@pytest.mark.parametrize("estimator, missing, kw, expected", [
    ("ML", "listwise", {}, "fitted:fit_complete"),
    ("ML", "listwise", {"cluster": "c"}, "fitted_casewise:fit_casewise"),
    ("ML", "listwise", {"meanstructure": True}, "fit_groups:fit_call"),
    ("MLR", "listwise", {}, "fitted_casewise:fit_casewise"),
    ("MLR", "listwise", {"as_groups": True}, "fit_groups:fit_call"),
    ("ML", "fiml", {}, "fitted_casewise:fit_casewise"),
    ("ML", "fiml", {"group": "g"}, "fit_groups:fit_call"),
    ("WLSMV", "listwise", {}, "ordinal.fit:fit_call"),
    ("WLSMV", "listwise", {"cluster": "c"}, "ordinal.fit:fit_call"),
    ("WLSMV", "listwise", {"group": "g"}, "ordinal.group_fit:fit_call"),
])
def test_the_one_entry_routes_every_layout_by_the_table(estimator, missing, kw, expected):
    call = FitCall("f =~ a + b + c\n", None, resolved_options(estimator, missing), **kw)
    assert fitter_of(call) == expected


def test_weights_with_groups_and_pairs_without_a_row_are_refused_in_one_line():
    with pytest.raises(FitError, match="sampling weights with analysis groups"):
        fitter_of(FitCall("", None, resolved_options("MLR"), group="g", weights="w"))
    with pytest.raises(FitError, match="'WLSMV' is not available here with missing = 'fiml'"):
        fitter_of(FitCall("", None, LavOptions("WLSMV", "fiml", "default", "robust.sem", "scaled.shifted",
                                               "expected", True, True, True)))


def test_a_plain_ml_fit_reads_the_table_without_importing_the_ordinal_modules():
    """Start-up time: the rows name WLSMV's fitters as strings, so declaring them imports nothing."""
    code = ("import sys, numpy as np, pandas as pd\n"
            "from cluster_sem.model.fitted import fit_model\n"
            "rng = np.random.default_rng(1)\n"
            "f = rng.normal(size=(200, 1))\n"
            "x = pd.DataFrame(f @ np.ones((1, 3)) + rng.normal(size=(200, 3)), columns=['a', 'b', 'c'])\n"
            "fit_model('F =~ a + b + c\\n', x)\n"
            "assert 'cluster_sem.model.estimators.registry' in sys.modules\n"
            "print(sorted(m for m in sys.modules if m.startswith('cluster_sem.model.ordinal')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# Comparisons with an estimator's name that stay outside the table, each for a reason of its own.
ALLOWED = {
    # the advice rule: MLR is ML with robust SEs, so a run with MLR already satisfies advice for ML (a pair
    # of estimators the rule relates, not a route; no row field says "same estimates, robust SEs")
    ("results/estimator_choice.py", "used == 'MLR'"),
    ("results/estimator_choice.py", "advised == 'ML'"),
    # the two-level model is an ML plug-in beside the single-level table (its own local refusals)
    ("analyses/twolevel.py", "lav.estimator != 'ML'"),
}


def _name_comparisons() -> set[tuple[str, str]]:
    names = set(ESTIMATORS) | {r.kind for r in TABLE}
    found = set()
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith("model/estimators/") or rel == "lavoptions.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare) and any(isinstance(c, ast.Constant) and c.value in names
                                                     for c in ast.walk(node)):
                found.add((rel, ast.unparse(node)))
    return found


def test_no_module_routes_by_an_estimator_name_outside_the_table():
    extra = _name_comparisons() - ALLOWED
    assert not extra, "look the estimator up in model/estimators instead of comparing its name:\n" + \
        "\n".join(f"{p}: {c}" for p, c in sorted(extra))


def test_the_name_scan_finds_a_comparison(tmp_path, monkeypatch):
    """The scanner itself: a new ``estimator == "MLR"`` outside the table is reported."""
    probe = tmp_path / "cluster_sem" / "probe.py"
    probe.parent.mkdir()
    probe.write_text("def f(lav):\n    return lav.estimator == 'MLR'\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", probe.parent)
    assert _name_comparisons() == {("probe.py", "lav.estimator == 'MLR'")}
