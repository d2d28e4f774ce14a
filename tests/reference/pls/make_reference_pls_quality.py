"""f², inner (antecedent) VIF, item VIF and adjusted R² reference values for tests/test_pls_quality.py, from
the PyPI ``seminr`` 0.2.1 port (Python port of R seminr 2.3: ``model_fsquares`` re-estimates the model
without each path, ``pls_antecedent_vifs`` uses the construct-score correlations, ``item_vifs`` the item
correlations).  The R reference (make_reference_pls.R) has none of these.  Run once where the port is installed:

    pip install seminr==0.2.1 && python tests/reference/pls/make_reference_pls_quality.py

Writes pls_quality_reference.json: for pls and plsc, f2 {"TO~FROM": v}, inner_vif {TO: {FROM: v}} (paths into
constructs with two or more predictors), item_vif {CONSTRUCT: {ITEM: v}}, r2_adj {C: v}.
"""
import json
import math
from pathlib import Path

import pandas as pd
import seminr as S
from seminr.evaluate.constructs_in_model import constructs_in_model
from seminr.evaluate.validity import item_vifs, pls_antecedent_vifs

from make_reference_plspredict import ITEMS, PATHS

HERE = Path(__file__).parent


def main() -> None:
    data = pd.read_csv(HERE / "mobi.csv")
    sm = S.relationships(*[S.paths(from_=f, to=t) for f, t in PATHS])
    out = {"source": f"PyPI seminr {S.__version__}: model_fsquares, pls_antecedent_vifs, item_vifs, r_squared AdjRsq"}
    for variant, kind in (("pls", S.composite), ("plsc", S.reflective)):
        model = S.estimate_pls(data=data, measurement_model=S.constructs(*[kind(c, i) for c, i in ITEMS.items()]),
                               structural_model=sm)
        f2 = S.model_fsquares(model)
        mc = constructs_in_model(model)
        pairs = [(f, t) for fs, ts in PATHS for t in ts for f in fs]
        inner = {to: {k: v for k, v in vifs.items() if not math.isnan(v)}
                 for to, vifs in pls_antecedent_vifs(model, mc).items()}
        out[variant] = {"f2": {f"{t}~{f}": f2.get(f, t) for f, t in pairs},
                        "inner_vif": {k: v for k, v in inner.items() if v},
                        "item_vif": item_vifs(model, mc),
                        "r2_adj": {c: model.r_squared.get("AdjRsq", c) for c in {t for _, t in pairs}}}
    (HERE / "pls_quality_reference.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
