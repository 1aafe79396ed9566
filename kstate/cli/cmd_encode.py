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
import sys
from pathlib import Path



def add_arguments(p) -> None:
    p.add_argument("json", metavar="JSON", help="the document: a file, or - for stdin")
    p.add_argument("--schema", action="append", metavar="PATH",
                   help="schemas: a .kstate file or folder, a snapshot JSON, or git:REF[:PATH]; "
                        "repeat to add more files (default: kstate.toml's [kstate] schemas, else schemas/)")
    p.add_argument("-o", "--output", metavar="BLOB", help="write the stream here (default: stdout)")
    p.add_argument("--byteorder", choices=("little", "big"),
                   help="byte order of the stream (default: the document's, else little)")


def _read(spec: str) -> str:
    from ..codec.limits import MAX_JSON_SIZE
    from ..errors import UsageError
    from ..readfile import read_regular, read_stream

    what = "a JSON document (kstate.codec.limits.MAX_JSON_SIZE)"
    if spec == "-":
        data = read_stream(sys.stdin.buffer, MAX_JSON_SIZE, what)
    else:
        data = read_regular(spec, MAX_JSON_SIZE, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{spec}: not UTF-8 text") from None


def run(args) -> int:
    from .. import config
    from ..codec import encode
    from ..errors import UsageError
    from ..output import write_file
    from ..sides import load_side

    text = _read(args.json)
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as err:  # ValueError: JSONDecodeError, or an integer
        raise UsageError(f"{args.json}: invalid JSON: {err}") from None  # beyond int's digit limit
    schemas = args.schema or config.current().schemas() or ["schemas"]
    schema_set = load_side(schemas)
    data = encode(schema_set, doc, byteorder=args.byteorder)  # EncodeError: exit 1
    if args.output:
        write_file(Path(args.output), data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return 0
