"""The Word report as a person sees it (not a unit test): report.docx → PDF (LibreOffice) → PNG pages.

    PYTHONPATH=. python validation/docx_pages.py [RESULTS_DIR] --out docx-pages/ [--lang en zh] [--dpi 80]

Without RESULTS_DIR the shipped example is fitted first (seed 1).  Writes report[.zh].docx, its PDF and one
PNG per page (``en-01.png`` …) into --out, then lists them: open them in an image viewer and check the
three-line tables, captions, fonts, the path diagram and the landscape pages of wide tables.  Needs
LibreOffice and poppler on PATH (Debian: ``apt-get install -y --no-install-recommends
libreoffice-writer-nogui poppler-utils``; Chinese text: ``fonts-wqy-zenhei`` or ``fonts-noto-cjk``); says so
and exits 2 when either is missing.  Kept out of the test suite: a LibreOffice start costs seconds and the
check is by eye.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _results(directory: str | None):
    import cluster_sem as cs
    if directory:
        return cs.load_results(Path(directory) / "results.json")
    return cs.fit(ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml",
                  ROOT / "data" / "zhejiang_128_synthetic.csv", seed=1, timestamp="2026-01-02T03:04:05+00:00")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", nargs="?", help="a folder holding results.json (default: fit the shipped example)")
    ap.add_argument("--out", default="docx-pages", help="folder for the .docx, .pdf and page images")
    ap.add_argument("--lang", nargs="+", default=["en", "zh"], choices=["en", "zh"])
    ap.add_argument("--dpi", type=int, default=80)
    args = ap.parse_args()
    tools = {"soffice": shutil.which("soffice"), "pdftoppm": shutil.which("pdftoppm")}
    missing = [name for name, path in tools.items() if path is None]
    if missing:
        print(f"missing {', '.join(missing)}: apt-get install -y --no-install-recommends "
              "libreoffice-writer-nogui poppler-utils", file=sys.stderr)
        return 2
    from cluster_sem.render.docx import docx_name
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = _results(args.dir)
    for lang in args.lang:
        path = out / docx_name(lang)
        path.write_bytes(results.to_docx(lang=lang))
        subprocess.run([tools["soffice"], "--headless", "--convert-to", "pdf", "--outdir", str(out), str(path)],
                       check=True, capture_output=True, timeout=300)
        pdf = path.with_suffix(".pdf")
        subprocess.run([tools["pdftoppm"], "-r", str(args.dpi), "-png", str(pdf), str(out / lang)], check=True,
                       timeout=300)
        pages = sorted(out.glob(f"{lang}-*.png"))
        print(f"{lang}: {path} → {pdf}, {len(pages)} pages: {pages[0].name} … {pages[-1].name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
