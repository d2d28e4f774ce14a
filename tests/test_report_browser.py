"""The HTML report checked in a real browser: headless Chromium renders it (DOM + screenshot), en and zh.

Skipped only when no chromium is installed (``.ci/install-browser`` installs it in CI).
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import cluster_sem as cs
from cluster_sem.render.html import render_html

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
DATA = ROOT / "data" / "zhejiang_128_synthetic.csv"

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
pytestmark = pytest.mark.skipif(BROWSER is None, reason="chromium not installed (run .ci/install-browser)")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars"]


@pytest.fixture(scope="module")
def doc() -> dict:
    return cs.fit(SPEC, DATA, seed=1, timestamp="2026-01-02T03:04:05+00:00").to_dict()


def _chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run([BROWSER, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True,
                          timeout=180)


def _write(tmp: Path, doc: dict, lang: str) -> Path:
    page = tmp / f"report_{lang}.html"
    page.write_text(render_html(doc, lang=lang), encoding="utf-8")
    return page


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_dom_rendered(doc, tmp_path, lang):
    page = _write(tmp_path, doc, lang)
    out = _chromium(tmp_path, "--dump-dom", page.as_uri())
    assert out.returncode == 0, out.stderr[-2000:]
    dom = out.stdout
    assert dom.count("<table") >= 12
    assert 'class="path-diagram"' in dom and "<text" in dom
    assert 'id="tbl-fit"' in dom and 'id="tbl-indirect"' in dom
    assert ("浙江省产业集群成长调查" if lang == "zh" else "Zhejiang industrial cluster growth survey") in dom
    if lang == "zh":
        assert "研究与数据" in dom and "网络联结方式" in dom


@pytest.mark.parametrize("lang,width", [("en", 1200), ("zh", 1200), ("en", 390)])
def test_screenshot_not_blank(doc, tmp_path, lang, width):
    import matplotlib.image as mpimg

    page = _write(tmp_path, doc, lang)
    png = tmp_path / f"shot_{lang}_{width}.png"
    out = _chromium(tmp_path, f"--screenshot={png}", f"--window-size={width},3000", page.as_uri())
    assert png.is_file() and png.stat().st_size > 10_000, out.stderr[-2000:]
    img = mpimg.imread(str(png))[..., :3]
    assert img.shape[0] >= 2900 and img.shape[1] == width
    gray = img.mean(axis=2)
    assert gray.max() - gray.min() > 0.5                 # not a single colour
    dark = (gray < 0.35).mean()
    assert 0.002 < dark < 0.5                              # some text, not a black page
    # the title band at the top is drawn (text in the first 120 px)
    assert (gray[:120] < 0.5).any()
    # content reaches well down the page, i.e. layout did not collapse
    rows_with_ink = np.flatnonzero((gray < 0.5).any(axis=1))
    assert rows_with_ink.max() > 2000
