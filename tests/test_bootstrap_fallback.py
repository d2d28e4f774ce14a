"""The bootstrap's fallback for resamples the batched fit leaves unconverged (``batched._rescue``).

* restarting replicates from their own start values and metrics (per-replicate ``start``/``metric_inv`` in
  ``batched_quasi_newton``) gives exactly what one batched call per replicate gives;
* the fallback never imports semopy unless asked (``semopy_fallback=True``): importing it alone costs ~1.5 s
  per process and a semopy refit ~0.5 s per resample;
* a replicate whose warm start cannot converge is still rescued from lavaan's start values, on the same optimum
  as a full fit of that resample.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from cluster_sem.bootstrap.batched import fit_covariances, make_core, sample_covariances
from cluster_sem.bootstrap.resample import resample_indices
from cluster_sem.model.fitted import fit_model
from cluster_sem.model.quasi_newton import batched_ml
from cluster_sem.model.start import lavaan_start

REF_DIR = Path(__file__).parent / "reference"
REF = json.loads((REF_DIR / "lavaan_reference.json").read_text())


def _poldem_core():
    syntax = REF["poldem_sem"]["model"]
    df = pd.read_csv(REF_DIR / "PoliticalDemocracy.csv")
    fit = fit_model(syntax, df)
    return fit, make_core(fit, df)


def test_per_replicate_starts_equal_one_call_per_replicate():
    fit, core = _poldem_core()
    mm = core.matrix_model
    S = sample_covariances(core.data, resample_indices(fit.n, 4, seed=3))
    starts = np.array([lavaan_start(core.partable, s) for s in S])
    metrics = np.array([np.linalg.inv(mm.expected_hessian(st, s)) for st, s in zip(starts, S)])
    together, ok, _ = batched_ml(mm, S, starts, metrics, tol=1e-9, max_iter=300)
    assert ok.all()
    for r in range(len(S)):
        alone, ok_r, _ = batched_ml(mm, S[r:r + 1], starts[r], metrics[r], tol=1e-9, max_iter=300)
        assert ok_r[0]
        np.testing.assert_allclose(together[r], alone[0], rtol=0, atol=1e-12)


def test_warm_start_failure_is_rescued_from_cold_starts_on_the_full_fit_optimum():
    """A warm start that cannot work (a start with a non-positive-definite Σ: every batched replicate fails
    at once) leaves all replicates to the fallback, whose lavaan start values reach each resample's optimum."""
    fit, core = _poldem_core()
    mm = core.matrix_model
    idx = resample_indices(fit.n, 6, seed=8)
    S = sample_covariances(core.data, idx)
    bad = np.zeros_like(core.theta_hat)                           # all zero: Σ singular, F not finite
    theta, conv, _, fallback, _ = fit_covariances(core.partable, mm, S, bad, core.metric_inv)
    assert conv.all() and fallback.all()
    for r in range(len(S)):
        single = fit_model(REF["poldem_sem"]["model"], pd.DataFrame(core.data[idx[r]], columns=list(mm.ov)))
        np.testing.assert_allclose(theta[r], single.theta, atol=1e-6)


def test_fallback_does_not_import_semopy():
    code = (
        "import sys, json, pandas as pd\n"
        "from pathlib import Path\n"
        "from cluster_sem.bootstrap.batched import fit_resamples, make_core\n"
        "from cluster_sem.bootstrap.resample import resample_indices\n"
        "from cluster_sem.model.fitted import fit_model\n"
        f"ref = Path({str(REF_DIR)!r})\n"
        "syntax = json.loads((ref / 'lavaan_reference.json').read_text())['poldem_sem']['model']\n"
        "df = pd.read_csv(ref / 'PoliticalDemocracy.csv')\n"
        "fit = fit_model(syntax, df)\n"
        "res = fit_resamples(make_core(fit, df, max_iter=1), resample_indices(fit.n, 5, seed=2))\n"
        "assert res.fallback.all() and res.converged.all(), (res.fallback, res.converged)\n"
        "print('semopy' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parents[1])
    assert out.stdout.strip() == "False"
