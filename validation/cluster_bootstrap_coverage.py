"""Coverage study of the cluster bootstrap (not a unit test): percentile CIs of an indirect effect with firms
nested in clusters.

    PYTHONPATH=. nice python validation/cluster_bootstrap_coverage.py --reps 1000 --clusters 40 --size 10 --B 1000

Population: latent mediation X → M → Y (a = .4, b = .4, c' = .2; ind = a·b = .16), three indicators per
construct (loadings 1, .8, .7; residual variances .4).  Every latent variable's shock is a cluster part plus
a firm part (ICC ``--icc`` of each shock, .15 by default), so firms of a cluster share X, M and Y shocks but
the model of the total covariance is the single-level model with the same a, b, c' (the estimand of a
single-level fit).  Resulting item ICCs ≈ .10.  Each replication draws G clusters of m firms with
``numpy.random.default_rng([seed, rep])``, fits ML with ``cluster=`` (``fit_model_casewise``: the pipeline's
fitter for ``fit --cluster``) and runs the cluster bootstrap (``run_bootstrap(cluster=)``, B resamples,
seed = rep) for the percentile and BC CIs of ``ind``.  For contrast it records the coverage of the
delta-method CIs with cluster-robust SEs and with naive (independent-firms) SEs.

Criterion (issue 22): coverage of the 95 % cluster-bootstrap percentile CI within .935–.965.  The Monte
Carlo SE of a coverage near .95 over R replications is sqrt(.95·.05/R) (.007 at R = 1000), printed beside
each figure.

Result (defaults, 2,000 replications, seed 22; 853 s niced on a shared 2-core machine, ~0.25 s CPU each):
item ICC .105; ind SD .0376, mean cluster-bootstrap SE .0370; coverage percentile .938, BC .940,
delta with cluster-robust SE .929, delta with naive SE .920 (Monte Carlo SE .005) — PASS.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODEL = """X =~ x1 + x2 + x3
M =~ m1 + m2 + m3
Y =~ y1 + y2 + y3
M ~ a*X
Y ~ b*M + X
ind := a*b
"""
A, B_PATH, C = 0.4, 0.4, 0.2
TRUE_IND = A * B_PATH
LOADINGS = np.array([1.0, 0.8, 0.7])
RESIDUAL = 0.4


def draw(g: int, m: int, icc: float, rng: np.random.Generator) -> pd.DataFrame:
    """G clusters × m firms: latent shocks = cluster part (variance icc) + firm part (variance 1 − icc)."""
    cluster = np.repeat(np.arange(g), m)

    def shock() -> np.ndarray:
        return math.sqrt(icc) * rng.standard_normal(g)[cluster] + math.sqrt(1 - icc) * rng.standard_normal(g * m)

    x = shock()
    mm = A * x + shock()
    y = B_PATH * mm + C * x + shock()
    cols = {"cluster": cluster}
    for name, eta in (("x", x), ("m", mm), ("y", y)):
        for k, lam in enumerate(LOADINGS, start=1):
            cols[f"{name}{k}"] = lam * eta + math.sqrt(RESIDUAL) * rng.standard_normal(g * m)
    return pd.DataFrame(cols)


def replicate(rep: int, args) -> dict:
    from cluster_sem.bootstrap import run_bootstrap
    from cluster_sem.model.fitted import fit_model
    from cluster_sem.model.fitted_casewise import fit_model_casewise
    from cluster_sem.results.design import icc1

    df = draw(args.clusters, args.size, args.icc, np.random.default_rng([args.seed, rep]))
    fit = fit_model_casewise(MODEL, df, missing="listwise", estimator="ML", cluster="cluster")
    naive = fit_model(MODEL, df)
    boot = run_bootstrap(fit, df, B=args.B, seed=rep, cluster=fit.design.cluster)
    ind = boot.defined[0]
    z = 1.959963984540054

    def delta(f) -> tuple[float, float]:
        row = f.parameters[f.parameters.op == ":="].iloc[0]
        return row.est - z * row.se, row.est + z * row.se

    return {"est": ind["est"], "perc": ind["perc"], "bc": ind["bc"], "robust": delta(fit), "naive": delta(naive),
            "se_boot": ind["se"], "n_converged": boot.n_converged,
            "icc_x1": icc1(df["x1"].to_numpy(), df["cluster"].to_numpy())}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--clusters", type=int, default=40)
    ap.add_argument("--size", type=int, default=10, help="firms per cluster")
    ap.add_argument("--icc", type=float, default=0.15)
    ap.add_argument("--B", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=22)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    rows = []
    for rep in range(args.reps):
        rows.append(replicate(rep, args))
        if (rep + 1) % 50 == 0 or rep + 1 == args.reps:
            print(f"  {rep + 1}/{args.reps} replications, {time.perf_counter() - t0:.0f} s", flush=True)
    secs = time.perf_counter() - t0
    R = len(rows)
    mcse = math.sqrt(0.95 * 0.05 / R)

    def cover(key: str) -> float:
        return float(np.mean([r[key][0] <= TRUE_IND <= r[key][1] for r in rows]))

    est = np.array([r["est"] for r in rows])
    print(f"cluster bootstrap coverage: G = {args.clusters} clusters x {args.size} firms, shock ICC {args.icc}, "
          f"B = {args.B}, {R} replications, seed {args.seed}")
    print(f"  item ICC (x1) mean {np.mean([r['icc_x1'] for r in rows]):.3f}; ind: true {TRUE_IND:.3f}, "
          f"mean estimate {est.mean():.4f}, empirical SD {est.std(ddof=1):.4f}, "
          f"mean cluster-bootstrap SE {np.mean([r['se_boot'] for r in rows]):.4f}")
    ok = True
    for key, label in (("perc", "cluster bootstrap percentile"), ("bc", "cluster bootstrap BC"),
                       ("robust", "delta, cluster-robust SE"), ("naive", "delta, naive SE (ignores clusters)")):
        c = cover(key)
        print(f"  {label:<36} coverage {c:.3f} (Monte Carlo SE {mcse:.3f})")
        if key == "perc":
            ok = 0.935 <= c <= 0.965
    print(f"  criterion .935-.965 for the percentile CI: {'PASS' if ok else 'FAIL'}; "
          f"{secs:.0f} s ({secs / R:.2f} s per replication)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
