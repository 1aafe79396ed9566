"""Reading an input file safely: only a regular file, at most a given size.

Every file the command line reads (schema files, snapshot JSON, waiver
files, decode blobs, encode documents) goes through ``read_regular``.  The
file is opened non-blocking, so a FIFO with no writer cannot hang the open;
anything that is not a regular file (FIFO, device, socket, folder) is
refused, so ``/dev/zero`` or ``/dev/stdin`` cannot feed an endless stream;
the size is checked before reading and the read stops one byte past the
limit, so a file that grows meanwhile is refused too.  ``-`` (stdin) is read
by ``read_stream``, also bounded.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from .errors import UsageError


class FileRefused(UsageError):
    """A file kstate will not read; ``code`` is ``FILE_TOO_LARGE`` or ``NOT_A_FILE``
    (or ``CANNOT_READ``), for callers that report it as a diagnostic."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _too_large(name: str, limit: int, what: str) -> FileRefused:
    return FileRefused("FILE_TOO_LARGE", f"{name}: larger than {limit} bytes, the most kstate reads "
                                         f"for {what}")


def read_regular(path: str | Path, limit: int, what: str, name: str | None = None) -> bytes:
    """The bytes of the regular file ``path`` (at most ``limit``); ``what`` says
    what the file is for in messages ("a waiver file"), ``name`` how to call it."""
    name = str(path) if name is None else name
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise FileRefused("CANNOT_READ", f"{name}: cannot read: {err.strerror or err}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise FileRefused("NOT_A_FILE", f"{name}: is a folder, not {what}")
        if not stat.S_ISREG(st.st_mode):
            raise FileRefused("NOT_A_FILE", f"{name}: not a regular file (a FIFO, device or socket); "
                                            f"kstate reads {what} only from a regular file")
        if st.st_size > limit:
            raise _too_large(name, limit, what)
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(limit + 1 - total, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise _too_large(name, limit, what)
        return b"".join(chunks)
    except OSError as err:
        raise FileRefused("CANNOT_READ", f"{name}: cannot read: {err.strerror or err}") from None
    finally:
        os.close(fd)


def read_stream(fh: BinaryIO, limit: int, what: str, name: str = "-") -> bytes:
    """At most ``limit`` bytes of an open stream (stdin); more is refused."""
    try:
        data = fh.read(limit + 1)
    except OSError as err:
        raise FileRefused("CANNOT_READ", f"{name}: cannot read: {err.strerror or err}") from None
    if len(data) > limit:
        raise _too_large(name, limit, what)
    return data
