"""Add the `cluster` column (the industrial cluster of each firm) to data/zhejiang_128_synthetic.csv.

    PYTHONPATH=. python data/assign_clusters.py            # rewrites the CSV in place (idempotent)

The 128 synthetic firms were simulated without cluster effects, so the clusters are assigned afterwards, in
a way that gives them what real industrial clusters have: firms of one cluster share suppliers, institutions
and shocks, so they resemble each other on every construct.  Within each region, firms are ordered by a
noisy "cluster climate" score — the mean of the standardised scores (item means, reverse-keyed items
recoded) of all twelve first-order constructs, plus normal noise of SD ``NOISE``
(``numpy.random.default_rng(SEED)``) — and cut into that region's clusters of (nearly) equal size in that
order.  The noise keeps clusters overlapping, so ICCs stay in the range reported for firm surveys rather
than the near-perfect sorting a noiseless cut would give.  The names are the region's well-known industrial
clusters; they label groups, nothing about the firms depends on them.

The file's existing columns are kept byte for byte: the column is appended to each text line.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT / "data" / "zhejiang_128_synthetic.csv"
SPEC = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
SEED = 22
NOISE = 0.3
CLUSTERS = {   # region → its industrial clusters (16 in all)
    "Hangzhou": ("Hangzhou-software", "Hangzhou-silk", "Hangzhou-equipment", "Hangzhou-ecommerce"),
    "Ningbo": ("Ningbo-garments", "Ningbo-moulds", "Ningbo-appliances"),
    "Wenzhou": ("Wenzhou-footwear", "Wenzhou-eyewear", "Wenzhou-electrical"),
    "Shaoxing": ("Shaoxing-textiles", "Shaoxing-hosiery", "Shaoxing-pearls"),
    "Taizhou": ("Taizhou-pharma", "Taizhou-autoparts", "Taizhou-plastics"),
}


def assign_clusters(lines: list[str]) -> list[str]:
    """The cluster name of every data row of the CSV text ``lines`` (header first, without a cluster column)."""
    sys.path.insert(0, str(ROOT))
    import io

    from cluster_sem.data import prepare_data
    from cluster_sem.spec import load_spec

    spec = load_spec(SPEC)
    raw = pd.read_csv(io.StringIO("\n".join(lines)))
    frame = prepare_data(spec, raw).frame            # reverse-keyed items recoded, as the analysis sees them
    scores = pd.DataFrame({c: frame[spec.items_of(c)].mean(axis=1) for c in spec.first_order})
    climate = ((scores - scores.mean()) / scores.std()).mean(axis=1).to_numpy()
    noisy = climate + NOISE * np.random.default_rng(SEED).standard_normal(len(frame))
    out = np.empty(len(frame), dtype=object)
    regions = raw["region"].to_numpy()
    for region, names in CLUSTERS.items():
        rows = np.flatnonzero(regions == region)
        ordered = rows[np.argsort(noisy[rows], kind="stable")]
        for name, part in zip(names, np.array_split(ordered, len(names))):
            out[part] = name
    if any(v is None for v in out):
        raise SystemExit(f"{CSV}: a firm's region is not one of {', '.join(CLUSTERS)}")
    return list(out)


def with_cluster_column(text: str) -> str:
    """The CSV text with a `cluster` column appended (an existing one is replaced, so reruns are idempotent)."""
    lines = text.rstrip("\n").split("\n")
    if lines[0].endswith(",cluster"):
        lines = [line.rsplit(",", 1)[0] for line in lines]
    names = assign_clusters(lines)
    body = [f"{line},{name}" for line, name in zip(lines[1:], names)]
    return "\n".join([lines[0] + ",cluster"] + body) + "\n"


if __name__ == "__main__":
    CSV.write_text(with_cluster_column(CSV.read_text(encoding="utf-8")), encoding="utf-8", newline="")
    print(f"wrote {CSV} with a cluster column ({sum(len(v) for v in CLUSTERS.values())} clusters)")
