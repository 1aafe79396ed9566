"""Decode a KSTATE stream (a blob dumped from a kernel) with the schemas.

Prints the decode document (JSON by default; `text` is an indented tree with
offsets; `hexdump` shows every byte annotated with the fields it holds) and
every diagnostic.  Exit 0 when clean, 1 when the blob has any error
diagnostic, 2 when the blob or schemas cannot be read.
"""

from __future__ import annotations

import json
import mmap
import os
import stat
import sys

from .. import config
from ..errors import UsageError

NAME = "decode"
HELP = "decode a KSTATE stream into JSON, an annotated tree or an annotated hexdump"


def add_arguments(p) -> None:
    p.add_argument("blob", metavar="BLOB", help="the stream to decode: a file, or - for stdin")
    p.add_argument("--schema", action="append", metavar="PATH",
                   help="schemas: a .kstate file or folder, a snapshot JSON, or git:REF[:PATH]; "
                        "repeat to add more files (default: kstate.toml's [kstate] schemas, else schemas/)")
    p.add_argument("--format", choices=("json", "text", "hexdump"), default="json",
                   help="output format (default: json)")
    p.add_argument("--lenient", action="store_true",
                   help="go on after errors where the framing allows; undecodable entries are kept raw")


def _too_large(spec: str, limit: int) -> UsageError:
    return UsageError(f"{spec}: larger than {limit} bytes, the most one decode accepts "
                      f"(kstate.codec.limits.MAX_STREAM_SIZE)")


def _read_bounded(spec: str, fh, limit: int) -> bytes:
    """Read a pipe or device, but never more than ``limit`` bytes (``/dev/zero`` ends)."""
    data = fh.read(limit + 1)
    if len(data) > limit:
        raise _too_large(spec, limit)
    return data


def read_blob(spec: str):
    """The blob's bytes: stdin read whole, a file mapped (not copied)."""
    from ..codec import limits

    limit = limits.MAX_STREAM_SIZE
    if spec == "-":
        return _read_bounded(spec, sys.stdin.buffer, limit), None
    try:
        with open(spec, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):  # a pipe or a device: read it
                return _read_bounded(spec, fh, limit), None
            if st.st_size > limit:
                raise _too_large(spec, limit)
            if st.st_size == 0:  # an empty file cannot be mapped
                return b"", None
            try:
                mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            except (ValueError, OSError):
                return fh.read(), None
    except IsADirectoryError:
        raise UsageError(f"{spec}: is a directory, not a blob") from None
    except OSError as err:
        raise UsageError(f"{spec}: cannot read: {err.strerror or err}") from None
    return mm, mm


def run(args) -> int:
    from ..codec import codecs_for, decode
    from ..codec.render import hexdump, text
    from ..sides import load_side

    schemas = args.schema or config.current().schemas() or ["schemas"]
    schema_set = load_side(schemas)
    data, mm = read_blob(args.blob)
    try:
        doc = decode(schema_set, data, lenient=args.lenient)
        codecs = codecs_for(schema_set)
        if args.format == "json":
            out = json.dumps(doc, indent=2) + "\n"
        elif args.format == "text":
            out = text(codecs, doc)
        else:
            out = hexdump(codecs, doc, data)
    finally:
        if mm is not None:
            try:
                mm.close()
            except BufferError:
                pass
    sys.stdout.write(out)
    sys.stdout.flush()
    return 1 if any(d["severity"] == "error" for d in doc["diagnostics"]) else 0
