"""Encode a decode document (the JSON `kstate decode` prints) into a KSTATE
stream.

`diagnostics`, `offset`, `size`, `state_id` and `section` may be left out;
`instance_id` defaults to 0, `version` to the state's current version;
fixed-value and count fields may be left out.  Bad content (a missing or
extra field, a value that does not fit, an unknown state) is an error naming
the JSON path: exit 1, nothing written.  Unreadable or invalid JSON: exit 2.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from ..errors import UsageError

NAME = "encode"
HELP = "encode a decode document (JSON) into a KSTATE stream"


def add_arguments(p) -> None:
    p.add_argument("json", metavar="JSON", help="the document: a file, or - for stdin")
    p.add_argument("--schema", action="append", nargs="+", metavar="PATH",
                   help="schemas: .kstate files or folders, a snapshot JSON, or git:REF[:PATH] "
                        "(default: schemas/)")
    p.add_argument("-o", "--output", metavar="BLOB", help="write the stream here (default: stdout)")
    p.add_argument("--byteorder", choices=("little", "big"),
                   help="byte order of the stream (default: the document's, else little)")


def _read(spec: str) -> str:
    from ..codec.limits import MAX_JSON_SIZE

    try:
        if spec == "-":
            data = sys.stdin.buffer.read(MAX_JSON_SIZE + 1)
        else:
            with open(spec, "rb") as fh:
                data = fh.read(MAX_JSON_SIZE + 1)
        if len(data) > MAX_JSON_SIZE:
            raise UsageError(f"{spec}: larger than {MAX_JSON_SIZE} bytes, the most encode reads "
                             f"(kstate.codec.limits.MAX_JSON_SIZE)")
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{spec}: not UTF-8 text") from None
    except OSError as err:
        raise UsageError(f"{spec}: cannot read: {err.strerror or err}") from None


def _write_atomic(path: Path, data: bytes) -> None:
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent if str(path.parent) else ".")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as err:
        raise UsageError(f"{path}: cannot write: {err.strerror or err}") from None


def run(args) -> int:
    from ..codec import encode
    from ..sides import load_side

    text = _read(args.json)
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as err:  # ValueError: JSONDecodeError, or an integer
        raise UsageError(f"{args.json}: invalid JSON: {err}") from None  # beyond int's digit limit
    schemas = [p for group in (args.schema or [["schemas"]]) for p in group]
    schema_set = load_side(schemas)
    data = encode(schema_set, doc, byteorder=args.byteorder)  # EncodeError: exit 1
    if args.output:
        _write_atomic(Path(args.output), data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return 0
