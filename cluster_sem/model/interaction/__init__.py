"""Latent interaction (moderation) models: LMS, QML and double-mean-centred product indicators.

One job per module:

* ``terms``      — split ``Y ~ X + Z + X:Z`` syntax into the linear model and interaction terms;
* ``structure``  — the interaction model's parameter table and LISREL-type matrices;
* ``lms``        — latent moderated structural equations (Klein & Moosbrugger 2000) by direct ML over a
                   Gauss–Hermite grid of the moderator(s), observed-information SEs;
* ``qml``        — quasi-maximum likelihood (Klein & Muthén 2007);
* ``dblcent``    — double-mean-centred product indicators fitted by the ordinary ML core;
* ``moderation`` — simple slopes, Johnson–Neyman interval, conditional indirect effects, IMM.
* ``fit``        — the spec's interaction model (``interaction_syntax``) fitted by any method
                   (``fit_interaction_model``); the moderation stage of ``fit`` is ``cluster_sem.analyses.moderation``.
"""
from __future__ import annotations

METHODS = ("lms", "qml", "dblcent")


def check_interaction_method(method: str) -> None:
    """Refuse an unknown ``--interaction-method`` before any model is fitted."""
    from ...errors import ClusterSemError
    if method not in METHODS:
        raise ClusterSemError(f"--interaction-method '{method}' is not known. Fix: use one of {', '.join(METHODS)}")


__all__ = ["METHODS", "check_interaction_method"]
