#!/usr/bin/env python3
"""Measure the HTML viewer on a big stream: the 1,000,000-folio memfd stream
of tools/bench_decode.py (16 MB).

Writes the page with the real command (``kstate decode --format html -o``),
then opens it from ``file://`` in headless Chromium (Debian's ``chromium`` and
``chromium-driver``, with selenium) and prints: the time and peak memory of
writing it, the file size, the time to first paint and to the page being
ready (both from navigation start), the JavaScript heap, and how long a
click on a byte deep in the array takes (select the field, re-render).

    python tools/bench_viewer.py [--folios N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_decode import build_stream  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            kids = [int(x) for x in task.read_text().split()]
            out += kids
            todo += kids
    return out


def _browser_rss(driver_pid: int) -> tuple[float, float]:
    """(largest renderer RSS, all of the browser's processes) in MiB, from /proc."""
    renderer = total = 0.0
    for pid in _descendants(driver_pid):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        kb = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
        total += kb / 1024
        if b"--type=renderer" in cmd:
            renderer = max(renderer, kb / 1024)
    return renderer, total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folios", type=int, default=1_000_000)
    ap.add_argument("--keep", metavar="DIR", help="write the stream and page here (default: a temp folder)")
    args = ap.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="kstate-viewer-"))
    folder.mkdir(parents=True, exist_ok=True)
    blob, page = folder / "memfd-big.bin", folder / "view.html"
    blob.write_bytes(build_stream(1, args.folios))
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "kstate", "decode", str(blob), "--schema", str(ROOT / "schemas"),
                          "--format", "html", "-o", str(page)], cwd=ROOT)
    gen = time.perf_counter() - t0
    if res.returncode != 0:
        return 2
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"stream: {blob.stat().st_size:,} bytes; page: {page.stat().st_size:,} bytes")
    print(f"kstate decode --format html: {gen:.2f} s, peak RSS {rss:.0f} MiB")

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-dev-shm-usage", "--window-size=1400,900", "--enable-precise-memory-info",
              f"--user-data-dir={tempfile.mkdtemp(prefix='kstate-chromium-')}"):
        opts.add_argument(a)
    driver = webdriver.Chrome(options=opts, service=Service(executable_path="/usr/bin/chromedriver"))
    try:
        driver.set_page_load_timeout(300)
        driver.execute_cdp_cmd("Performance.enable", {})
        driver.get(page.resolve().as_uri())
        WebDriverWait(driver, 300).until(lambda d: d.execute_script("return document.body.dataset.ready") == "1")
        paint = driver.execute_script(
            "const p = performance.getEntriesByType('paint').find(e => e.name === 'first-contentful-paint');"
            "return p ? p.startTime : null")
        ready = driver.execute_script("return performance.now()")
        metrics = {m["name"]: m["value"] for m in driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]}
        off = 0x30 + (args.folios * 3 // 4) * 16 + 8 + 24
        click = driver.execute_script(
            "const t = performance.now(); window.kstateViewer.selectByte(arguments[0]);"
            "return [performance.now() - t, window.kstateViewer.selected()]", off)
        print(f"first contentful paint: {paint / 1000:.2f} s; page ready (script done) by {ready / 1000:.2f} s")
        print(f"JS heap used: {metrics.get('JSHeapUsedSize', 0) / 2**20:.0f} MiB "
              f"(total {metrics.get('JSHeapTotalSize', 0) / 2**20:.0f} MiB); DOM nodes {metrics.get('Nodes', 0):.0f}")
        rss_r, rss_all = _browser_rss(driver.service.process.pid)
        print(f"browser memory (RSS): renderer {rss_r:.0f} MiB, all browser processes {rss_all:.0f} MiB")
        print(f"select a byte deep in the array ({click[1]}): {click[0]:.1f} ms")
    finally:
        driver.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
