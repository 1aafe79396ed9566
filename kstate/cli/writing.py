"""Where a command's output goes: stdout, or a file replaced atomically (a
temporary file in the same folder, renamed over the target when the whole
output is written; on failure the target is left as it was)."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

from ..errors import UsageError


@contextlib.contextmanager
def atomic_writer(path: str | None):
    """A text file object for ``path`` (None or ``-``: stdout), written as it streams."""
    if path in (None, "-"):
        yield sys.stdout
        sys.stdout.flush()
        return
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise UsageError(f"{path}: is a directory; give a file name for -o")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as err:
        raise UsageError(f"{path}: cannot write: {err.strerror or err}") from None
    ok = False
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            yield fh
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
        ok = True
    except OSError as err:
        raise UsageError(f"{path}: cannot write: {err.strerror or err}") from None
    finally:
        if not ok:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
