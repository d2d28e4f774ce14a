"""The default engine (lavaan's start values + Fisher scoring/BFGS, no semopy) against the semopy engine,
and the start values themselves.

* Both engines must reach the same optimum: estimates, SEs and std.all within 1e-6 on the lavaan reference
  models and the shipped example (measurement and structural model).
* The default path must not import semopy (its import alone costs ~1.3 s).
* FABIN 3 recovers the loadings of an exact one-factor covariance matrix (it is a consistent estimator),
  and the start values are keyed by parameter-table row, independent of the matrix layout.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cluster_sem.model import fitted as fitted_module
from cluster_sem.model.fitted import fit_model
from cluster_sem.model.partable import build_partable
from cluster_sem.model.start import fabin3_loadings, start_values

HERE = Path(__file__).parent
ROOT = HERE.parent
REF = json.loads((HERE / "reference" / "lavaan_reference.json").read_text())


def _example_models():
    from cluster_sem.pipeline import FitOptions, stage_data
    from cluster_sem.spec import load_spec
    from cluster_sem.spec.syntax import measurement_syntax, structural_syntax
    spec = load_spec(ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml")
    frame = stage_data(spec, ROOT / "data" / "zhejiang_128_synthetic.csv", FitOptions()).frame
    return [("example_measurement", measurement_syntax(spec), frame),
            ("example_structural", structural_syntax(spec, with_defined=True), frame)]


def _cases():
    return [("hs_cfa", REF["hs_cfa"]["model"], pd.read_csv(HERE / "reference" / "HolzingerSwineford1939.csv")),
            ("poldem_sem", REF["poldem_sem"]["model"], pd.read_csv(HERE / "reference" / "PoliticalDemocracy.csv"))
            ] + _example_models()


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c[0])
def test_default_and_semopy_engines_reach_the_same_optimum(case):
    _, syntax, data = case
    ours = fit_model(syntax, data)
    semopy = fit_model(syntax, data, engine="semopy")
    assert ours.converged and semopy.converged
    assert "lavaan start values" in ours.start_note and "semopy" in semopy.start_note
    cols = ["est", "se", "std_all"]
    diff = np.abs(ours.parameters[cols].to_numpy(float) - semopy.parameters[cols].to_numpy(float))
    assert np.nanmax(diff) < 1e-6
    assert ours.fit["chi2"] == pytest.approx(semopy.fit["chi2"], rel=1e-9)


def test_default_engine_does_not_import_semopy():
    code = ("import sys, pandas as pd\n"
            "from cluster_sem.model.fitted import fit_model\n"
            f"fit = fit_model({REF['hs_cfa']['model']!r}, pd.read_csv({str(HERE / 'reference' / 'HolzingerSwineford1939.csv')!r}))\n"
            "assert fit.converged\n"
            "heavy = [m for m in ('semopy', 'scipy.stats', 'scipy.optimize') if m in sys.modules]\n"
            "print(','.join(heavy))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == ""


def test_semopy_is_the_fallback_when_our_starts_fail(monkeypatch):
    """Start values that give a non-positive-definite Σ on both of our starts: semopy's solution takes over."""
    data = pd.read_csv(HERE / "reference" / "HolzingerSwineford1939.csv")
    # all −1: negative variances, so Σ is not positive definite at either start
    monkeypatch.setattr(fitted_module, "lavaan_start", lambda pt, S: np.full(pt.n_free, -1.0))
    monkeypatch.setattr(fitted_module, "simple_start", lambda mm, S: np.full(mm.n_free, -1.0))
    fit = fit_model(REF["hs_cfa"]["model"], data)
    assert fit.converged and "semopy" in fit.start_note
    x2 = fit.parameters.query("lhs == 'visual' and rhs == 'x2'")["est"].item()
    assert x2 == pytest.approx(0.55350029376, abs=1e-5)


def test_unknown_engine_is_a_clear_error():
    from cluster_sem.errors import FitError
    with pytest.raises(FitError, match="engine 'lisrel' is not known"):
        fit_model(REF["hs_cfa"]["model"], pd.read_csv(HERE / "reference" / "HolzingerSwineford1939.csv"),
                  engine="lisrel")


@pytest.mark.parametrize("lam", [[1.0, 0.8, 1.3, 0.6, 0.9], [1.0, 0.7, 1.2], [1.0, -0.9, 0.5, 1.1]])
def test_fabin3_recovers_exact_one_factor_loadings(lam):
    lam = np.asarray(lam)
    S = 0.8 * np.outer(lam, lam) + np.diag(np.linspace(0.3, 0.6, len(lam)))
    est, negative_triad = fabin3_loadings(S)
    if len(lam) == 3 or lam.min() > 0:
        assert not negative_triad
    np.testing.assert_allclose(est, lam, atol=1e-12)


def test_start_values_follow_lavaan_rules_and_are_keyed_by_row():
    syntax = "f =~ a + b + c + d\ng =~ e\ng ~ f\n"
    pt = build_partable(syntax)
    lam = np.array([1.0, 0.8, 1.2, 0.9])
    S = np.eye(5)
    S[:4, :4] = 0.5 * np.outer(lam, lam) + 0.5 * np.eye(4)
    S[4, :4] = S[:4, 4] = 0.1
    values = start_values(pt.params, pt.variables, S, pt.variables.ov)
    assert values[("f", "=~", "a")] == 1.0                                  # fixed marker keeps its value
    np.testing.assert_allclose([values[("f", "=~", v)] for v in "bcd"], lam[1:], atol=1e-12)  # FABIN 3
    assert values[("a", "~~", "a")] == pytest.approx(0.5 * S[0, 0])        # half the observed variance
    assert values[("f", "~~", "f")] == 0.05                                 # latent variances
    assert values[("g", "~", "f")] == 0.0                                   # regressions start at 0
    assert set(values) == {(p.lhs, p.op, p.rhs) for p in pt.params}
