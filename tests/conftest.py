import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def run_kstate(*args, cwd=None, input=None):
    """Run the real command line in a subprocess; returns CompletedProcess."""
    import subprocess

    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "kstate", *map(str, args)], cwd=cwd or ROOT,
                          input=input, capture_output=True, env=env,
                          text=not isinstance(input, bytes))


@pytest.fixture
def kstate_cli():
    return run_kstate
