"""Cluster-robust SEs and Yuan–Bentler test with analysis groups (lavaan ``group=`` + ``cluster=``).

No lavaan output exists for this combination, so the multigroup path is pinned by identities against the
single-group cluster path (which ``test_cluster_weights_lavaan.py`` checks against lavaan 0.6-14):

1. configural model (no equality constraints): every group's estimates and SEs equal the single-group
   cluster-robust fit of that group's rows (lavaan builds the meat per group, clusters nested in groups,
   G_g/(G_g − 1) per group), and the scaled test is the df-weighted combination of the groups' scaling
   factors (the information is block-diagonal);
2. clusters of size 1 with equal group sizes: the cluster meat is n_g/(n_g − 1) times the plain one, so
   the vcov and the scaling factor are the plain multigroup MLR ones times that factor;
3. estimates do not depend on the clusters (the likelihood is ML's).

Data: lavaan's Demo.twolevel (2,500 rows, 200 clusters) split into two sites by cluster number, so the
clusters are nested in the sites.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cluster_sem.errors import FitError
from cluster_sem.model.fitted import fit_model
from cluster_sem.model.lrt import lrt

DATA = pd.read_csv(Path(__file__).parent / "reference" / "design" / "demo_twolevel.csv")
MODEL = "f =~ y1 + y2 + y3\ng =~ y4 + y5 + y6\ng ~ f + x1 + x2\n"
SITES = ("even", "odd")


def _sites() -> pd.DataFrame:
    frame = DATA.copy()
    frame["site"] = np.where(frame["cluster"] % 2 == 0, "even", "odd")
    return frame


def _merge(multi, single, group: str) -> pd.DataFrame:
    rows = multi.parameters[multi.parameters.group == group]
    return rows.merge(single.parameters, on=["lhs", "op", "rhs"], suffixes=("", "_single"))


@pytest.mark.parametrize("estimator", ["MLR", "ML"])
def test_configural_groups_equal_single_group_cluster_fits(estimator):
    frame = _sites()
    multi = fit_model(MODEL, frame, group="site", groups=SITES, cluster="cluster", estimator=estimator)
    assert multi.test.name == "yuan.bentler.mplus"
    traces, dfs = [], []
    for site in SITES:
        single = fit_model(MODEL, frame[frame.site == site], cluster="cluster", estimator=estimator)
        rows = _merge(multi, single, site)
        assert len(rows) == len(single.parameters) == 30
        np.testing.assert_allclose(rows.est, rows.est_single, atol=1e-6)
        np.testing.assert_allclose(rows.se, rows.se_single, rtol=1e-6)
        traces.append(single.fit["chi2_scaling_factor"] * single.fit["df"])
        dfs.append(single.fit["df"])
    assert multi.fit["df"] == sum(dfs)
    # tr(UΓ) adds over groups: c = Σ_g c_g df_g / Σ_g df_g
    assert multi.fit["chi2_scaling_factor"] == pytest.approx(sum(traces) / sum(dfs), rel=1e-6)
    assert multi.fit["chi2_scaled"] == pytest.approx(multi.fit["chi2"] / multi.fit["chi2_scaling_factor"], rel=1e-12)


def test_clusters_of_one_case_scale_the_plain_sandwich():
    frame = DATA.copy()
    frame["site"] = np.where(np.arange(len(frame)) % 2 == 0, "even", "odd")   # 1,250 rows each
    frame["case"] = np.arange(len(frame))
    plain = fit_model(MODEL, frame, group="site", groups=SITES, estimator="MLR")
    single = fit_model(MODEL, frame, group="site", groups=SITES, cluster="case", estimator="MLR")
    factor = 1250 / 1249
    np.testing.assert_allclose(single.vcov, plain.vcov * factor, rtol=1e-8)
    assert single.fit["chi2_scaling_factor"] == pytest.approx(plain.fit["chi2_scaling_factor"] * factor, rel=1e-8)


def test_estimates_do_not_depend_on_clusters_but_ses_do():
    frame = _sites()
    plain = fit_model(MODEL, frame, group="site", groups=SITES, estimator="MLR")
    clustered = fit_model(MODEL, frame, group="site", groups=SITES, cluster="cluster", estimator="MLR")
    np.testing.assert_allclose(clustered.parameters.est, plain.parameters.est, atol=1e-10)
    assert clustered.fit["chi2"] == pytest.approx(plain.fit["chi2"], rel=1e-12)
    ratio = clustered.parameters.se / plain.parameters.se
    assert np.nanmax(np.abs(ratio - 1)) > 0.05       # the cluster meat is not the case meat
    assert clustered.design.cluster_column == "cluster" and clustered.design.n_clusters == 200


def test_satorra_bentler_difference_uses_the_cluster_scaling():
    frame = _sites()
    kw = dict(group="site", groups=SITES, cluster="cluster", estimator="MLR")
    free = fit_model(MODEL, frame, **kw)
    metric = fit_model(MODEL, frame, group_equal=("loadings",), start_fit=free, **kw)
    diff = lrt(metric, free)
    ddf = metric.fit["df"] - free.fit["df"]
    cd = (metric.fit["df"] * metric.fit["chi2_scaling_factor"] - free.fit["df"] * free.fit["chi2_scaling_factor"]) / ddf
    assert diff["df"] == ddf == 4
    assert diff["chi2"] == pytest.approx((metric.fit["chi2"] - free.fit["chi2"]) / cd, rel=1e-10)


def test_a_group_with_one_cluster_weights_fiml_and_wlsmv_are_refused():
    """Refused in one line, never fitted as if the firms were independent."""
    frame = _sites()
    with pytest.raises(FitError, match="not estimator 'WLSMV'"):
        fit_model(MODEL, frame, group="site", groups=SITES, cluster="cluster", estimator="WLSMV")
    with pytest.raises(FitError, match="complete rows only"):
        fit_model(MODEL, frame, group="site", groups=SITES, cluster="cluster", estimator="MLR", missing="fiml")
    frame["one"] = np.where(frame.site == "even", 1, frame["cluster"])
    with pytest.raises(FitError, match="group 'even': cluster column 'one' has a single cluster"):
        fit_model(MODEL, frame, group="site", groups=SITES, cluster="one", estimator="MLR")
    frame["w"] = 1.0
    with pytest.raises(FitError, match="sampling weights with analysis groups are not supported"):
        fit_model(MODEL, frame, group="site", groups=SITES, weights="w", estimator="MLR")
