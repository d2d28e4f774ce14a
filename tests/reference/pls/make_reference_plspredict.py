"""PLSpredict reference values for tests/test_pls_predict.py, from the PyPI ``seminr`` 0.2.1 port (a Python
port of R seminr 2.3's ``predict_pls``; no R was available).  Run once, in an environment with that port:

    pip install seminr==0.2.1 && python tests/reference/pls/make_reference_plspredict.py

mobi data and model as make_reference_pls.R; 10 folds over a fixed row order (stored, so the test does not
depend on any random stream); direct-antecedent predictions; PLS (composites) and PLSc (reflective).
Writes plspredict_reference.json: per item the out-of-sample RMSE and MAE of PLS and of the LM benchmark.
"""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import seminr as S

HERE = Path(__file__).parent
ITEMS = {"Image": [f"IMAG{i}" for i in range(1, 6)], "Expectation": [f"CUEX{i}" for i in range(1, 4)],
         "Quality": [f"PERQ{i}" for i in range(1, 8)], "Value": ["PERV1", "PERV2"],
         "Satisfaction": [f"CUSA{i}" for i in range(1, 4)], "Complaints": ["CUSCO"],
         "Loyalty": [f"CUSL{i}" for i in range(1, 4)]}
PATHS = [(["Image"], ["Expectation", "Satisfaction", "Loyalty"]), (["Expectation"], ["Quality", "Value", "Satisfaction"]),
         (["Quality"], ["Value", "Satisfaction"]), (["Value"], ["Satisfaction"]),
         (["Satisfaction"], ["Complaints", "Loyalty"]), (["Complaints"], ["Loyalty"])]


def metrics(matrix) -> dict:
    return {c: {"rmse": float(np.sqrt(np.mean(matrix.values[:, j] ** 2))),
                "mae": float(np.mean(np.abs(matrix.values[:, j])))} for j, c in enumerate(matrix.cols)}


def main() -> None:
    data = pd.read_csv(HERE / "mobi.csv")
    order = [int(i) for i in np.random.default_rng(20261207).permutation(len(data))]
    sm = S.relationships(*[S.paths(from_=f, to=t) for f, t in PATHS])
    out = {"source": f"PyPI seminr {S.__version__} predict_pls(no_folds=10, ordering=order, technique=predict_DA)",
           "folds": 10, "order": order}
    for variant, kind in (("pls", S.composite), ("plsc", S.reflective)):
        model = S.estimate_pls(data=data, measurement_model=S.constructs(*[kind(c, i) for c, i in ITEMS.items()]),
                               structural_model=sm)
        pred = S.predict_pls(model, no_folds=10, ordering=order)
        out[variant] = {"pls": metrics(pred.items.pls_out_of_sample_residuals),
                        "lm": metrics(pred.items.lm_out_of_sample_residuals)}
    (HERE / "plspredict_reference.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
