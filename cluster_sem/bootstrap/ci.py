"""The bootstrap's CIs and SE: lavaan's ``perc`` / ``bca.simple`` rules, which live in ``cluster_sem.intervals``
(below the model layer, since the moderation CIs of ``model/interaction`` use the same percentile rule)."""
from __future__ import annotations

from ..intervals import bc_ci, bootstrap_se, norm_inter, percentile_ci

__all__ = ["bc_ci", "bootstrap_se", "norm_inter", "percentile_ci"]
