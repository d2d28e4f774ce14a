"""Synthetic data from a spec's ``population`` section: the closed-form continuous model
(:mod:`.population`) and the Likert simulator that samples from it (:mod:`.simulator`)."""
from __future__ import annotations

from .population import PopulationModel, build_population, implied_correlation, latent_correlation, thresholds_for
from .simulator import SurveyDraw, SurveySampler, group_sizes, simulate, simulate_continuous, simulate_to_csv, write_csv

__all__ = [
    "PopulationModel", "build_population", "implied_correlation", "latent_correlation", "thresholds_for",
    "group_sizes", "simulate", "simulate_continuous", "simulate_to_csv", "write_csv", "SurveyDraw", "SurveySampler",
]
