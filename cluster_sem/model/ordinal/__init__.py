"""Ordered-categorical (Likert) items: lavaan's WLSMV route.

Stages, as lavaan's ``muthen1984`` + DWLS estimator:
    categories → univariate thresholds → two-step polychoric correlations → their asymptotic covariance Γ
    → DWLS on (thresholds, correlations) in the delta parameterization → robust SEs, scaled-shifted χ².
"""
