"""The plain single-group ML fit is the G = 1 case of the staged path (``fit_groups`` without groups or
means): same start, same estimate stage, so the two agree to the last bit, not just to a tolerance."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cluster_sem.errors import FitError
from cluster_sem.model.fit_groups import fit_groups
from cluster_sem.model.fitted import fit_model

REF_DIR = Path(__file__).parent / "reference"
REF = json.loads((REF_DIR / "lavaan_reference.json").read_text())


@pytest.mark.parametrize("key,csv", [("hs_cfa", "HolzingerSwineford1939.csv"),
                                     ("poldem_sem", "PoliticalDemocracy.csv")])
def test_staged_g1_without_means_is_the_plain_fit_bitwise(key, csv):
    syntax, data = REF[key]["model"], pd.read_csv(REF_DIR / csv)
    plain = fit_model(syntax, data)
    staged = fit_groups(syntax, data, meanstructure=False, use_semopy=False)
    assert np.array_equal(plain.theta, staged.theta)
    assert np.array_equal(plain.vcov, staged.vcov)
    for column in ("est", "se", "std_all"):
        assert np.array_equal(plain.parameters[column].to_numpy(float), staged.parameters[column].to_numpy(float))
    assert json.dumps(plain.fit, default=str) == json.dumps(staged.fit, default=str)
    assert (plain.iterations, plain.start_note, plain.problems) == (staged.iterations, staged.start_note,
                                                                    staged.problems)


def test_plain_fit_keeps_the_single_group_shape():
    """Routed through the staged fit, ``fit_model`` still returns the single-group shape the bootstrap and
    the reports dispatch on: no ``group`` column, a group-free table, no multigroup pieces."""
    fit = fit_model(REF["hs_cfa"]["model"], pd.read_csv(REF_DIR / "HolzingerSwineford1939.csv"))
    assert "group" not in fit.parameters.columns
    assert fit.partable.groups == () and fit.groups == ()
    assert fit.group_model is None and fit.sample is None and fit.test is None
    assert fit.sample_cov.shape == fit.implied_cov.shape == (9, 9)


def test_more_parameters_than_moments_is_a_one_line_refusal():
    """df < 0 (one construct, two items: 4 free parameters, 3 moments) is refused with a FitError naming
    the count and the fix, not a ValueError from the RMSEA interval."""
    data = pd.read_csv(REF_DIR / "HolzingerSwineford1939.csv")
    with pytest.raises(FitError, match=r"4 free parameters but the data give only 3 sample moments \(df = -1\)"):
        fit_model("f =~ x1 + x2", data)


@pytest.mark.parametrize("kw, says", [({"missing": "bogus"}, "missing 'bogus' is not known"),
                                      ({"estimator": "DWLS"}, "DWLS")])
def test_fit_model_refuses_unknown_options_with_its_own_fit_error(kw, says):
    """Library callers catch ``FitError`` from ``fit_model``; the options are resolved by the command line's
    resolver, whose errors are the base class (a caller catching FitError missed them)."""
    from cluster_sem.errors import FitError
    from cluster_sem.model.fitted import fit_model
    with pytest.raises(FitError, match=says) as caught:
        fit_model("f =~ x1 + x2 + x3", pd.DataFrame(np.eye(4)[:, :3] + 1, columns=["x1", "x2", "x3"]), **kw)
    assert "--" not in str(caught.value)
