"""Reference numbers of the PyPI seminr 0.2.1 port (a Python port of seminr) for two-stage higher-order
composites on the mobi data: tests/reference/pls/seminr_two_stage.json, read by tests/test_pls_two_stage.py.

Run outside the project's environment (seminr is no dependency):
    pip download --no-deps seminr==0.2.1 && python -m zipfile -e seminr-0.2.1-py3-none-any.whl src
    PYTHONPATH=src python make_seminr_two_stage.py mobi.csv   # writes seminr_two_stage.json here
"""
import csv, json, sys
import numpy as np
import seminr as s
rows = list(csv.reader(open(sys.argv[1])))
cols, vals = tuple(rows[0]), np.array(rows[1:], dtype=float)
data = s.estimate.data.Dataset(cols, vals)
out = {}
for label, w in (("mode_A", s.correlation_weights), ("mode_B", s.regression_weights)):
    mm = s.constructs(
        s.composite("Image", s.multi_items("IMAG", range(1, 6))),
        s.composite("Expectation", s.multi_items("CUEX", range(1, 4))),
        s.composite("Quality", s.multi_items("PERQ", range(1, 8))),
        s.composite("Value", s.multi_items("PERV", range(1, 3))),
        s.higher_composite("Perception", ["Quality", "Value"], method="two_stage", weights=w),
        s.composite("Satisfaction", s.multi_items("CUSA", range(1, 4))),
        s.composite("Complaints", s.single_item("CUSCO")),
        s.composite("Loyalty", s.multi_items("CUSL", range(1, 4))))
    sm = s.relationships(
        s.paths("Image", "Expectation"), s.paths("Expectation", "Perception"),
        s.paths(["Image", "Expectation", "Perception"], "Satisfaction"),
        s.paths("Satisfaction", "Complaints"), s.paths(["Image", "Satisfaction", "Complaints"], "Loyalty"))
    m = s.estimate_pls(data, mm, sm)
    out[label] = m

def nz(M):
    return {f"{r}|{c}": float(M.values[i, j]) for i, r in enumerate(M.rows) for j, c in enumerate(M.cols)
            if M.values[i, j] != 0}

ref = {"source": "PyPI seminr 0.2.1 (Python port of seminr), estimate_pls with higher_composite(Perception, "
                 "[Quality, Value], method=two_stage, weights=correlation_weights | regression_weights), "
                 "path_weighting, mobi.csv; made by tests/reference/pls/make_seminr_two_stage.py"}
for label, m in out.items():
    r2 = m.r_squared
    ref[label] = {"paths": nz(m.path_coef), "loadings": nz(m.outer_loadings), "weights": nz(m.outer_weights),
                  "r2": {c: float(r2.values[0, j]) for j, c in enumerate(r2.cols)},
                  "stage1_paths": nz(m.first_stage_model.path_coef), "rows": list(r2.rows)}
json.dump(ref, open("seminr_two_stage.json", "w"), indent=1, sort_keys=True)

# PLSc: reflective first-order constructs, the HOC a mode-A higher_composite (seminr's PLSc corrects it too)
mm = s.constructs(
    s.reflective("Image", s.multi_items("IMAG", range(1, 6))),
    s.reflective("Expectation", s.multi_items("CUEX", range(1, 4))),
    s.reflective("Quality", s.multi_items("PERQ", range(1, 8))),
    s.reflective("Value", s.multi_items("PERV", range(1, 3))),
    s.higher_composite("Perception", ["Quality", "Value"], method="two_stage"),
    s.reflective("Satisfaction", s.multi_items("CUSA", range(1, 4))),
    s.reflective("Complaints", s.single_item("CUSCO")),
    s.reflective("Loyalty", s.multi_items("CUSL", range(1, 4))))
m = s.estimate_pls(data, mm, sm)
ref["plsc_mode_A"] = {"paths": nz(m.path_coef), "loadings": nz(m.outer_loadings), "weights": nz(m.outer_weights),
                      "r2": {c: float(m.r_squared.values[0, j]) for j, c in enumerate(m.r_squared.cols)}}
json.dump(ref, open("seminr_two_stage.json", "w"), indent=1, sort_keys=True)
