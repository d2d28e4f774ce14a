"""Analyses: stages that combine the model, resampling and results layers into a document's blocks.

``moderation`` — the moderation stage of ``cluster-sem fit`` (the spec's ``interactions``).  The fit
pipeline (``cluster_sem.pipeline``), invariance, power and PLS sit at this level too
(docs/architecture.md, tests/test_architecture.py).
"""
