"""The project's own release history, checked the way a kernel CI would, and
its qualification matrix with the values a person predicts (written by hand
from docs/schemas.md)."""

import json

import pytest

from conftest import ROOT, run_kstate

HISTORY = ["schemas/history/v1.json", "schemas/history/v2.json"]


@pytest.mark.parametrize("snapshot", HISTORY)
def test_every_past_release_updates_to_the_working_tree(snapshot):
    res = run_kstate("check", snapshot, "schemas", "--waivers", "schemas/history/waivers.toml",
                     "--format", "json")
    assert res.returncode == 0, res.stdout + res.stderr
    doc = json.loads(res.stdout)
    assert doc["summary"]["errors"] == 0
    unused = [f for f in doc["findings"] if f["rule"] == "WAIVER_UNUSED"]
    # the one waiver is for skipping release 2, so it is only used from v1
    assert bool(unused) == (snapshot != HISTORY[0])


def test_the_release_chain_has_no_errors():
    res = run_kstate("check", *HISTORY, "schemas")
    assert res.returncode == 0, res.stdout + res.stderr


def test_the_projects_own_matrix():
    res = run_kstate("matrix", *HISTORY, "schemas", "--format", "json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    # updates (above the diagonal): each release to the next is safe; skipping
    # release 2 is cut by iommu_device_ser's min_version = 2.
    # rollbacks (below): every newer release writes versions the older cannot read.
    assert doc["matrix"] == [
        [None, 0, 1],
        [12, None, 0],
        [13, 7, None],
    ]
    rules = {(c["from"], c["to"]): c["rules"] for c in doc["cells"]}
    assert rules[("schemas/history/v1.json", "schemas")] == ["MIN_VERSION_EXCLUDES_OLD"]
    assert rules[("schemas", "schemas/history/v2.json")] == [
        "ENUM_VALUE_REMOVED", "STATE_DELETED", "VERSION_REGRESSED"]
    assert rules[("schemas/history/v2.json", "schemas/history/v1.json")] == [
        "STATE_DELETED", "SUBSECTION_DROPPED", "VERSION_REGRESSED"]
