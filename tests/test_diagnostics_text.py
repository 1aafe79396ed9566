"""The complete text ``kstate compile`` prints for every error fixture —
messages, notes, help, source lines, carets and their order — is the
recorded text of tests/fixtures/errors.txt, byte for byte.

test_language_errors.py checks which codes each fixture reports, and where;
this test holds everything else the user reads still, so restructuring or
speeding up the front end cannot change a word or the order.  A change to a
message that is meant: re-record with
``python tests/test_diagnostics_text.py`` and review the diff of errors.txt.
"""

import contextlib
import io
import os
import sys
from pathlib import Path

import pytest

from kstate.cli import run

HERE = Path(__file__).resolve().parent
ERRORS = HERE / "fixtures" / "errors"
RECORD = HERE / "fixtures" / "errors.txt"
CASES = sorted(p.name for p in ERRORS.iterdir())
HEAD = "==== "


def rendered(case: str, out: Path) -> str:
    """What ``kstate compile CASE`` prints, run from the fixtures folder (so
    every path in it is relative), with its exit code."""
    stdout, stderr = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(ERRORS)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = run(["compile", "--lang", "json", "-o", str(out), case])
    finally:
        os.chdir(cwd)
    return f"exit {code}\n{stderr.getvalue()}"


def recorded() -> dict[str, str]:
    sections: dict[str, str] = {}
    name = None
    for line in RECORD.read_text().splitlines(keepends=True):
        if line.startswith(HEAD):
            name = line[len(HEAD):].rstrip("\n")
            sections[name] = ""
        else:
            sections[name] += line
    return sections


@pytest.fixture(scope="module")
def record():
    return recorded()


@pytest.mark.parametrize("case", CASES)
def test_fixture_prints_its_recorded_text(case, record, tmp_path):
    assert case in record, f"{case} has no recorded text: run python tests/test_diagnostics_text.py"
    assert rendered(case, tmp_path / "out") == record[case]


def test_every_recorded_case_is_a_fixture(record):
    assert sorted(record) == CASES


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        text = "".join(f"{HEAD}{case}\n{rendered(case, Path(tmp) / case)}" for case in CASES)
    RECORD.write_text(text)
    print(f"recorded {len(CASES)} cases in {RECORD}", file=sys.stderr)
