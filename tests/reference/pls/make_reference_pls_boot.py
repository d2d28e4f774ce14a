"""Bootstrap replicate reference for tests/test_pls_seminr.py: the seminr 0.2.1 port (Python port of R
seminr 2.3's ``bootstrap_model``) re-estimating the mobi model on 30 given resamples (indices stored, so
the test needs no random stream), PLS and PLSc.  Run once where the port is installed:

    pip install seminr==0.2.1 && python tests/reference/pls/make_reference_pls_boot.py

Writes pls_boot_reference.json: indices (30 × 250, 0-based) and, per variant and replicate, the paths
{"TO~FROM": v}, loadings and weights {"CONSTRUCT=~ITEM": v}.
"""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import seminr as S

from make_reference_plspredict import ITEMS, PATHS

HERE = Path(__file__).parent


def main() -> None:
    data = pd.read_csv(HERE / "mobi.csv")
    indices = np.random.default_rng(20261207).integers(0, len(data), size=(30, len(data)))
    sm = S.relationships(*[S.paths(from_=f, to=t) for f, t in PATHS])
    pairs = [(f, t) for fs, ts in PATHS for t in ts for f in fs]
    out = {"source": f"PyPI seminr {S.__version__} bootstrap_model(indices=...)", "indices": indices.tolist()}
    for variant, kind in (("pls", S.composite), ("plsc", S.reflective)):
        model = S.estimate_pls(data=data, measurement_model=S.constructs(*[kind(c, i) for c, i in ITEMS.items()]),
                               structural_model=sm)
        boot = S.bootstrap_model(model, nboot=len(indices), indices=indices)
        assert boot.fails == 0
        out[variant] = [{"paths": {f"{t}~{f}": p.get(f, t) for f, t in pairs},
                         "loadings": {f"{c}=~{i}": lo.get(i, c) for c, its in ITEMS.items() for i in its},
                         "weights": {f"{c}=~{i}": w.get(i, c) for c, its in ITEMS.items() for i in its}}
                        for p, lo, w in zip(boot.boot_paths, boot.boot_loadings, boot.boot_weights)]
    (HERE / "pls_boot_reference.json").write_text(json.dumps(out, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
