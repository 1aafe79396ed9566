"""Decode a KSTATE stream (a blob dumped from a kernel) with the schemas.

Prints the decode document (JSON by default; `text` is an indented tree with
offsets; `hexdump` shows every byte with each field's range, path, type and
value; `html` writes one self-contained page with the field tree and the
hex side by side) and every diagnostic.  `--state`, `--instance` and
`--range` show part of the stream (every format).  Exit 0 when clean, 1 when
the blob has any error diagnostic (filters do not change it), 2 when the
blob or schemas cannot be read.
"""

from __future__ import annotations

import argparse
import json
import mmap
import os
import stat
import sys
from typing import Iterable, Iterator


def add_arguments(p) -> None:
    p.add_argument("blob", metavar="BLOB", help="the stream to decode: a file, or - for stdin")
    p.add_argument("--schema", action="append", metavar="PATH",
                   help="schemas: a .kstate file or folder, a snapshot JSON, or git:REF[:PATH]; "
                        "repeat to add more files (default: kstate.toml's [kstate] schemas, else schemas/)")
    p.add_argument("--format", choices=("json", "text", "hexdump", "html"), default="json",
                   help="output format (default: json); html needs -o")
    p.add_argument("--lenient", action="store_true",
                   help="go on after errors where the framing allows; undecodable entries are kept raw")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the output to FILE (atomically) instead of stdout; needed for html")
    p.add_argument("--state", metavar="NAME",
                   help="show only the entries of this state (a name or a state_id)")
    p.add_argument("--instance", metavar="ID", type=_instance,
                   help="show only the entries with this instance_id")
    p.add_argument("--range", metavar="START:END", type=_range, dest="byte_range",
                   help="show only the bytes [START, END) (decimal or 0x hex; either may be empty)")
    p.add_argument("--max-elements", metavar="N", type=_count, default=8,
                   help="text and hexdump: show at most N elements of each array, then say how many "
                        "were left out (default: 8)")
    p.add_argument("--all", action="store_true", help="text and hexdump: show every array element")


def _instance(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an instance_id (an integer), found {text!r}") from None


def _count(text: str) -> int:
    try:
        n = int(text, 0)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected a count >= 0, found {text!r}")
    return n


def _range(text: str):
    from ..codec.spans import parse_range

    try:
        return parse_range(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def read_blob(spec: str):
    """The blob's bytes: stdin read whole (bounded), a regular file mapped (not
    copied).  Anything else (a FIFO, a device) is refused, like every input
    file (``kstate.readfile``)."""
    from ..codec import limits
    from ..errors import UsageError
    from ..readfile import FileRefused, read_regular, read_stream

    limit = limits.MAX_STREAM_SIZE
    what = "a blob (kstate.codec.limits.MAX_STREAM_SIZE)"
    if spec == "-":
        return read_stream(sys.stdin.buffer, limit, what), None
    try:
        fd = os.open(spec, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise UsageError(f"{spec}: cannot read: {err.strerror or err}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise UsageError(f"{spec}: is a directory, not a blob")
        if not stat.S_ISREG(st.st_mode) or st.st_size == 0:  # refused; or empty, or /proc (size 0)
            return read_regular(spec, limit, what), None
        if st.st_size > limit:
            raise FileRefused("FILE_TOO_LARGE", f"{spec}: larger than {limit} bytes, the most kstate "
                                                f"reads for {what}")
        try:
            return (mm := mmap.mmap(fd, 0, access=mmap.ACCESS_READ)), mm
        except (ValueError, OSError):
            return read_regular(spec, limit, what), None
    finally:
        os.close(fd)


def json_chunks(doc) -> Iterator[str]:
    """The decode document as ``json.dumps(doc, indent=2)`` writes it, in pieces:
    the text is never held whole (a 16 MiB stream's is hundreds of MiB)."""
    yield from json.JSONEncoder(indent=2).iterencode(doc)
    yield "\n"


def write_chunks(chunks: str | Iterable[str], out=None, batch: int = 1 << 16) -> None:
    """Write ``chunks`` (one text, or pieces of it) to ``out``, ``batch`` characters at a time."""
    out = out or sys.stdout
    if isinstance(chunks, str):
        chunks = (chunks,)
    pending: list[str] = []
    size = 0
    for chunk in chunks:
        pending.append(chunk)
        size += len(chunk)
        if size >= batch:
            out.write("".join(pending))
            pending, size = [], 0
    out.write("".join(pending))
    out.flush()


def _selection(args):
    from ..codec.spans import Selection

    start, end = args.byte_range or (None, None)
    return Selection(args.state, args.instance, start, end)


def run(args) -> int:
    from .. import config
    from ..codec import codecs_for, decode
    from ..errors import UsageError
    from ..sides import load_side
    from .writing import atomic_writer

    if args.format == "html" and not args.output:
        raise UsageError("--format html writes a file: give -o FILE (for instance -o view.html)")
    schemas = args.schema or config.current().schemas() or ["schemas"]
    schema_set = load_side(schemas)
    data, mm = read_blob(args.blob)
    sel = _selection(args)
    max_elements = None if args.all else args.max_elements
    try:
        doc = decode(schema_set, data, lenient=args.lenient)
        codecs = codecs_for(schema_set)
        with atomic_writer(args.output) as out:
            if args.format == "json":
                write_chunks(json_chunks(sel.filter_doc(doc)), out)
            elif args.format == "text":
                from ..codec.render import write_text

                write_text(out, codecs, doc, lenient=args.lenient, max_elements=max_elements, selection=sel)
            elif args.format == "hexdump":
                from ..codec.render import write_hexdump

                write_hexdump(out, codecs, doc, data, lenient=args.lenient, max_elements=max_elements,
                              selection=sel)
            else:
                from ..codec.html_view import write_html

                write_html(out, codecs, doc, data, lenient=args.lenient, selection=sel,
                           title=args.blob if args.blob != "-" else "stdin")
    finally:
        if mm is not None:
            try:
                mm.close()
            except BufferError:
                pass
    return 1 if any(d["severity"] == "error" for d in doc["diagnostics"]) else 0
