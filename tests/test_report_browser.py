"""The HTML report checked in a real browser: headless Chromium renders it (DOM + screenshot), en and zh.

Skipped only when no chromium is installed (``.ci/install-browser`` installs it in CI).
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

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
def doc(example_doc) -> dict:
    return example_doc  # the session's shared fit of the shipped example (conftest.py); only read here


DOM_LANGS = ["en", "zh"]
SHOTS = [("en", 1200), ("zh", 1200), ("en", 390)]


def _chromium(tmp: Path, name: str, *args: str) -> subprocess.CompletedProcess:
    profile = tmp / f"profile_{name}"   # one profile per browser: the runs below are concurrent
    profile.mkdir(exist_ok=True)
    return subprocess.run([BROWSER, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True,
                          timeout=180)


def _write(tmp: Path, doc: dict, lang: str) -> Path:
    page = tmp / f"report_{lang}.html"
    page.write_text(render_html(doc, lang=lang), encoding="utf-8")
    return page


@pytest.fixture(scope="module")
def browser_runs(doc, tmp_path_factory) -> dict:
    """All headless-browser runs of this module at once (two DOM dumps, three screenshots), concurrently:
    each run is mostly browser start-up latency, so batching them saves most of the wall time."""
    from concurrent.futures import ThreadPoolExecutor
    tmp = tmp_path_factory.mktemp("browser")
    pages = {lang: _write(tmp, doc, lang) for lang in DOM_LANGS}
    jobs = {("dom", lang): ("--dump-dom", pages[lang].as_uri()) for lang in DOM_LANGS}
    for lang, width in SHOTS:
        png = tmp / f"shot_{lang}_{width}.png"
        jobs[("shot", lang, width)] = (f"--screenshot={png}", f"--window-size={width},3000", pages[lang].as_uri())
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = {key: pool.submit(_chromium, tmp, "_".join(map(str, key)), *args) for key, args in jobs.items()}
        runs = {key: fut.result() for key, fut in futures.items()}
    return {"runs": runs, "tmp": tmp}


@pytest.mark.parametrize("lang", DOM_LANGS)
def test_dom_rendered(browser_runs, lang):
    out = browser_runs["runs"][("dom", lang)]
    assert out.returncode == 0, out.stderr[-2000:]
    dom = out.stdout
    assert dom.count("<table") >= 12
    assert 'class="path-diagram"' in dom and "<text" in dom
    assert 'id="tbl-fit"' in dom and 'id="tbl-indirect"' in dom
    assert ("浙江省产业集群成长调查" if lang == "zh" else "Zhejiang industrial cluster growth survey") in dom
    if lang == "zh":
        assert "研究与数据" in dom and "网络联结方式" in dom


@pytest.mark.parametrize("lang,width", SHOTS)
def test_screenshot_not_blank(browser_runs, lang, width):
    import matplotlib.image as mpimg

    out = browser_runs["runs"][("shot", lang, width)]
    png = browser_runs["tmp"] / f"shot_{lang}_{width}.png"
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
