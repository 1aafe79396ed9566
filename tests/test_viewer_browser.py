"""``kstate decode --format html`` in a real browser (headless Chromium from
Debian's packages, driven by selenium and Debian's chromedriver): click a
field, see its bytes highlighted; click a byte, see its field selected; page
through a long array; move with the keyboard; follow a diagnostic; no console
error; a hostile blob cannot run script.  The page is opened from ``file://``
with every network request blocked by its own policy.

Also the checks that need no browser: one self-contained file, the embedded
JSON escaped.  The screenshot for docs/reading-a-dump.md is taken here: set
``KSTATE_SCREENSHOT=docs/img/viewer.png`` to write it into the docs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = str(ROOT / "schemas")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


def run(*args, cwd=None):
    res = subprocess.run([sys.executable, "-m", "kstate", *map(str, args)], cwd=cwd or ROOT,
                         capture_output=True, text=True, timeout=300)
    assert "Traceback" not in res.stderr, res.stderr
    return res


def make_blob(tmp_path, doc: dict, name="memfd.bin", schema=SCHEMAS, byteorder="little") -> Path:
    src = tmp_path / (name + ".json")
    src.write_text(json.dumps(doc))
    out = tmp_path / name
    res = run("encode", src, "--schema", schema, "-o", out, "--byteorder", byteorder)
    assert res.returncode == 0, res.stderr
    return out


def memfd_doc(folios: int) -> dict:
    return {"entries": [
        {"state": "memfd", "version": 3, "instance_id": 7, "fields": {
            "pos": 4096, "size": 2097152, "seals": ["SEAL", "GROW"], "nr_folios": folios,
            "folios": [{"pfn": 0x1000 + i, "flags": i % 4, "index": 3 * i} for i in range(folios)],
            "name": "vm-ram"}},
        {"state": "memfd", "version": 3, "instance_id": 8, "fields": {
            "pos": 0, "size": 8192, "seals": [], "nr_folios": 1,
            "folios": [{"pfn": 0x2000, "flags": 0, "index": 0}], "name": "small"}}]}


HOSTILE_SCHEMA = """
state note {
    id = 9;
    version = 1;
    label: char[200];
    data: u8[8];
}
"""
HOSTILE = ("</script><script>window.__pwned=1</script><!--<script>window.__pwned=2</script>"
           "\u2028\u2029<img src=x onerror=window.__pwned=3>&amp;")


def html_of(tmp_path, blob, *extra, schema=SCHEMAS, name="view.html") -> Path:
    """``kstate decode BLOB --format html -o view.html``, run in the blob's folder."""
    out = tmp_path / name
    res = run("decode", blob.name, "--schema", schema, "--format", "html", "-o", out, *extra, cwd=blob.parent)
    assert res.returncode in (0, 1), res.stderr
    return out


# --- without a browser ---------------------------------------------------------------

def test_html_is_one_self_contained_file(tmp_path):
    blob = make_blob(tmp_path, memfd_doc(3))
    page = html_of(tmp_path, blob).read_text()
    assert len(re.findall(r"<script\b", page)) == 3 and page.count("</script>") == 3
    assert not re.search(r"\b(src|href)\s*=", page.split("<script>")[0])  # no external asset
    assert "http://" not in page and "https://" not in page
    assert "default-src 'none'" in page and "'sha256-" in page
    doc = json.loads(re.search(r'id="kstate-doc">(.*?)</script>', page, re.S).group(1))
    assert doc["tree"][1]["p"] == "memfd[7]" and doc["size"] == blob.stat().st_size


def test_html_takes_the_filters(tmp_path):
    blob = make_blob(tmp_path, memfd_doc(3))
    page = html_of(tmp_path, blob, "--instance", "8").read_text()
    doc = json.loads(re.search(r'id="kstate-doc">(.*?)</script>', page, re.S).group(1))
    assert [n["p"] for n in doc["tree"]] == ["memfd[8]"]
    assert doc["summary"].startswith("kstate stream: little-endian")
    assert doc["summary"].endswith("; showing 1 of 2 entries (--instance 8)")


def test_a_long_array_is_written_once_as_a_template(tmp_path):
    schema = tmp_path / "grid.kstate"
    schema.write_text("struct cell { a: u32; v: u8[120]; }\n"
                      "state grid { id = 5; version = 1; n: u32; cells: cell[n]; }\n")
    cells = [{"a": i, "v": [i % 256] * 120} for i in range(150)]
    blob = make_blob(tmp_path, {"entries": [{"state": "grid", "fields": {"n": 150, "cells": cells}}]},
                     name="grid.bin", schema=str(schema))
    page = html_of(tmp_path, blob, schema=str(schema)).read_text()
    doc = json.loads(re.search(r'id="kstate-doc">(.*?)</script>', page, re.S).group(1))
    arr = next(n for n in doc["tree"][1]["c"] if n["l"] == "cells")
    assert arr["a"]["count"] == 150 and arr["a"]["esize"] == 124 and arr["n"] == 150 * 124
    el = arr["a"]["el"]
    assert [c["l"] for c in el["c"]] == ["a", "v"] and el["c"][0]["d"] == ["int", "u32"]
    inner = el["c"][1]
    assert len(inner["c"]) == 120 and inner["c"][119]["o"] == 4 + 119  # walked whole, offsets in the element
    assert "v" not in el["c"][0]  # the page reads the values from the bytes


def test_hostile_strings_are_escaped_in_the_embedded_json(tmp_path):
    schema = tmp_path / "note.kstate"
    schema.write_text(HOSTILE_SCHEMA)
    blob = make_blob(tmp_path, {"entries": [{"state": "note", "fields": {"label": HOSTILE[:190],
                                                                          "data": list(range(8))}}]},
                     name="x<!--y.bin", schema=str(schema))
    page = html_of(tmp_path, blob, schema=str(schema)).read_text()
    body = re.search(r'id="kstate-doc">(.*?)</script>', page, re.S).group(1)
    for bad in ("</script", "<!--", "<script", "<img", "\u2028", "\u2029", "&amp;"):
        assert bad not in body, bad
    doc = json.loads(body)  # and it is still the same data
    label = next(n for n in doc["tree"][1]["c"] if n["l"] == "label")
    assert json.loads(label["v"]) == HOSTILE[:190]
    assert doc["title"].endswith("x<!--y.bin")


# --- in Chromium --------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    missing = [what for what, ok in (("chromium", CHROMIUM), ("chromedriver (Debian: chromium-driver)", DRIVER))
               if not ok]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("selenium (pip install -e '.[test]')")
    if missing:
        msg = ("\n" + "!" * 72 + "\nBROWSER TEST SKIPPED: " + ", ".join(missing) + " not installed.\n"
               "Install with: apt-get install -y chromium chromium-driver (.ci/run does).\n" + "!" * 72)
        warnings.warn(msg)
        print(msg, file=sys.stderr)
        pytest.skip(msg)
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1400,900",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=opts, service=Service(executable_path=DRIVER))
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()


def open_page(driver, path: Path):
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(path.resolve().as_uri())
    WebDriverWait(driver, 60).until(lambda d: d.execute_script("return document.body.dataset.ready") == "1")
    driver.get_log("browser")  # start each page with an empty console


def console_errors(driver) -> list:
    return [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


def row(driver, path: str):
    from selenium.webdriver.common.by import By

    rows = [r for r in driver.find_elements(By.CSS_SELECTOR, "#tree .row") if r.get_attribute("data-path") == path]
    assert rows, f"no tree row {path!r}"
    return rows[0]


def highlighted(driver) -> list[int]:
    return driver.execute_script(
        "return [...document.querySelectorAll('#hexrows .b.sel')].map(b => Number(b.dataset.o))")


def byte_cell(driver, off: int):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, f'#hexrows .b[data-o="{off}"]')


def selected(driver) -> str | None:
    return driver.execute_script("const r = document.querySelector('#tree .row.sel'); "
                                 "return r ? r.dataset.path : null")


def test_click_a_field_then_a_byte(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    blob = make_blob(tmp_path, memfd_doc(4))
    open_page(browser, html_of(tmp_path, blob))
    assert browser.title == "memfd.bin \u2014 kstate stream"
    # open the entry the way a user does: its toggle
    row(browser, "memfd[7]").find_element(By.CSS_SELECTOR, ".tog").click()
    row(browser, "memfd[7].size").click()
    assert highlighted(browser) == list(range(0x20, 0x28))
    details = browser.find_element(By.ID, "details").text
    assert "memfd[7].size" in details and "u64" in details and "2097152" in details
    # a byte selects the field that holds it
    byte_cell(browser, 0x2D).click()
    assert selected(browser) == "memfd[7].nr_folios"
    assert highlighted(browser) == list(range(0x2C, 0x30))
    # into an array element's bits: the group is selected
    byte_cell(browser, 0x31).click()
    assert selected(browser) == "memfd[7].folios[0].{pfn, flags}"
    # keyboard: right opens the group, right again goes to its first member, down to the next row
    browser.find_element(By.ID, "tree").send_keys(Keys.ARROW_RIGHT)
    assert row(browser, "memfd[7].folios[0].{pfn, flags}").get_attribute("aria-expanded") == "true"
    browser.find_element(By.ID, "tree").send_keys(Keys.ARROW_RIGHT)
    assert selected(browser) == "memfd[7].folios[0].pfn"
    assert "= 4096" in row(browser, "memfd[7].folios[0].pfn").text
    browser.find_element(By.ID, "tree").send_keys(Keys.ARROW_DOWN, Keys.ARROW_DOWN)
    assert selected(browser) == "memfd[7].folios[0].index"
    assert highlighted(browser) == list(range(0x38, 0x40))
    # the hex moves with the arrows too
    byte_cell(browser, 0x18).click()
    browser.find_element(By.ID, "hex").send_keys(Keys.ARROW_DOWN)
    assert selected(browser) == "memfd[7].seals"
    assert "SEAL|GROW" in browser.find_element(By.ID, "details").text
    assert console_errors(browser) == []
    shot = tmp_path / "viewer.png"
    browser.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    if os.environ.get("KSTATE_SCREENSHOT"):
        shutil.copyfile(shot, ROOT / os.environ["KSTATE_SCREENSHOT"])


@pytest.mark.parametrize("byteorder", ["little", "big"])
def test_long_arrays_are_paged_and_read_from_the_bytes(browser, tmp_path, byteorder):
    from selenium.webdriver.common.by import By

    blob = make_blob(tmp_path, memfd_doc(1000), byteorder=byteorder)
    page = html_of(tmp_path, blob)
    assert page.stat().st_size < 4 * blob.stat().st_size + 40_000  # elements are not written one by one
    expect = json.loads(run("decode", blob, "--schema", SCHEMAS).stdout)["entries"][0]["fields"]["folios"]
    open_page(browser, page)
    # a byte deep in the array: element 617, its index field (offset 0x30 + 617*16 + 8)
    off = 0x30 + 617 * 16 + 8
    browser.execute_script("window.kstateViewer.selectByte(arguments[0])", off)
    assert selected(browser) == "memfd[7].folios[617].index"
    assert highlighted(browser) == list(range(off, off + 8))
    assert f"= {expect[617]['index']}" in row(browser, "memfd[7].folios[617].index").text
    pager = browser.find_element(By.CSS_SELECTOR, "#tree .pager")
    assert "elements 600\u2013699 of 1000" in pager.text
    pager.find_element(By.CSS_SELECTOR, "button.next").click()
    el = row(browser, "memfd[7].folios[700]")
    el.find_element(By.CSS_SELECTOR, ".tog").click()
    row(browser, "memfd[7].folios[700].{pfn, flags}").find_element(By.CSS_SELECTOR, ".tog").click()
    # the values the page reads are kstate's values
    for name in ("pfn", "flags", "index"):
        assert f"= {expect[700][name]}" in row(browser, f"memfd[7].folios[700].{name}").text
    row(browser, "memfd[7].folios[700].flags").click()
    assert highlighted(browser) == list(range(0x30 + 700 * 16, 0x30 + 700 * 16 + 8))
    assert console_errors(browser) == []


def test_diagnostics_are_listed_and_linked(browser, tmp_path):
    from selenium.webdriver.common.by import By

    data = bytearray((ROOT / "examples" / "memfd.bin").read_bytes())
    data[0x2C:0x30] = struct.pack("<I", 1 << 21)  # COUNT_OUT_OF_RANGE at nr_folios
    blob = tmp_path / "bad.bin"
    blob.write_bytes(bytes(data))
    open_page(browser, html_of(tmp_path, blob))
    items = browser.find_elements(By.CSS_SELECTOR, "#diags li")
    assert len(items) == 1 and "error[COUNT_OUT_OF_RANGE]" in items[0].text
    assert "not decoded" in browser.find_element(By.ID, "tree").text
    items[0].click()
    assert selected(browser) == "memfd[7] payload"
    assert byte_cell(browser, 0x2C).get_attribute("class").split() == ["b", "sel", "cur", "diag"]
    assert console_errors(browser) == []


def test_hostile_blob_runs_no_script(browser, tmp_path):
    schema = tmp_path / "note.kstate"
    schema.write_text(HOSTILE_SCHEMA)
    blob = make_blob(tmp_path, {"entries": [{"state": "note", "fields": {"label": HOSTILE[:190],
                                                                          "data": list(range(8))}}]},
                     name="x<img src=y onerror=window.__pwned=4>.bin", schema=str(schema))
    open_page(browser, html_of(tmp_path, blob, schema=str(schema)))
    assert browser.execute_script("return window.__pwned === undefined")
    assert browser.execute_script("return document.querySelectorAll('img').length") == 0
    assert browser.execute_script("return document.scripts.length") == 3
    row(browser, "note[0]").find_element("css selector", ".tog").click()
    text = row(browser, "note[0].label").text
    assert "</script><script>window.__pwned=1</script>" in text
    assert "<img src=y onerror=window.__pwned=4>" in browser.title
    assert console_errors(browser) == []
