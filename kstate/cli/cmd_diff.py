"""Compare two KSTATE dumps field by field (for qualifying a live update:
save before kexec, save again after restore, diff).

Entries are matched by (state, instance), subsections by state, fields by
name across versions (a version 2 dump against a version 3 dump says which
fields exist on one side only, and which values changed), arrays element by
element (past --max-elements differing elements, a count).  Values are
compared as decoded, so byte order does not matter.  Each side has its own
schemas: --schema for A (and B, unless --schema-b is given), anything a
`kstate check` side takes, git:REF[:PATH] included.

Exit codes: 0 the dumps hold the same state; 1 they differ (or a side has
an error diagnostic); 2 could not compare (bad arguments, unreadable blob,
broken schemas).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

FORMATS = ("text", "json", "github")


def add_arguments(p) -> None:
    p.add_argument("a", metavar="A.bin", help="the first dump (- for stdin)")
    p.add_argument("b", metavar="B.bin", help="the second dump")
    p.add_argument("--schema", action="append", metavar="PATH",
                   help="schemas of A (and of B without --schema-b): a .kstate file or folder, a snapshot "
                        "JSON, or git:REF[:PATH]; repeat to add paths "
                        "(default: kstate.toml's [kstate] schemas, else schemas/)")
    p.add_argument("--schema-b", action="append", metavar="PATH",
                   help="schemas of B, when its kernel had others (for instance git:v6.19:schemas)")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    p.add_argument("--lenient", action="store_true", help="decode both sides leniently (read on after errors)")
    p.add_argument("--max-elements", metavar="N", type=_count, default=8,
                   help="list at most N differing elements of each array, then their count (default: 8)")
    p.add_argument("--all", action="store_true", help="list every differing element")


def _count(text: str) -> int:
    try:
        n = int(text, 0)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected a count >= 0, found {text!r}")
    return n


def _decode(blob: str, schema_set, lenient: bool) -> dict:
    from ..codec import decode
    from .cmd_decode import read_blob

    data, mm = read_blob(blob)
    try:
        return decode(schema_set, data, lenient=lenient)
    finally:
        if mm is not None:
            try:
                mm.close()
            except BufferError:
                pass


def run(args) -> int:
    import sys

    from .. import config
    from ..codec.diff import compare, summary
    from ..errors import UsageError
    from ..sides import load_side

    if args.a == "-" and args.b == "-":
        raise UsageError("only one of A and B can be - (stdin)")
    sa = args.schema or config.current().schemas() or ["schemas"]
    sb = args.schema_b or sa
    set_a = load_side(sa)
    set_b = set_a if sb == sa else load_side(sb)
    doc_a = _decode(args.a, set_a, args.lenient)
    doc_b = _decode(args.b, set_b, args.lenient)
    diffs, matched = compare(doc_a, doc_b, None if args.all else args.max_elements)
    summ = summary(diffs, matched)
    sides = [_side_info(args.a, sa, doc_a), _side_info(args.b, sb, doc_b)]
    if args.format == "json":
        out = json.dumps({"a": sides[0], "b": sides[1], "differences": diffs, "summary": summ}, indent=2) + "\n"
    elif args.format == "github":
        out = github(diffs, summ, sides, set_a, set_b)
    else:
        out = text(diffs, summ, sides)
    sys.stdout.write(out)
    sys.stdout.flush()
    return 1 if summ["differences"] else 0


def _side_info(blob: str, schemas: list[str], doc: dict) -> dict:
    subs = sum(len(e.get("subsections", [])) for e in doc["entries"])
    return {"blob": blob, "schema": " ".join(schemas), "byteorder": doc["byteorder"], "size": doc["size"],
            "entries": len(doc["entries"]) + subs,
            "errors": sum(d["severity"] == "error" for d in doc["diagnostics"])}


# --- text -----------------------------------------------------------------------

def _v(value, limit: int = 96) -> str:
    s = json.dumps(value)
    return s if len(s) <= limit else s[:limit - 3] + "..."


def _rel(path: str, entry: str) -> str:
    if entry and path.startswith(entry) and path != entry:
        rest = path[len(entry):]
        return rest[1:] if rest.startswith((".", "/")) else rest
    return path


def _entry_only(e: dict) -> str:
    return (f"{e.get('section', 'section')} at offset {e.get('offset')}, version {e.get('version')}, "
            f"payload {e.get('size')} byte(s)")


def line_of(x: dict) -> str:
    kind, path = x["kind"], _rel(x["path"], x["entry"])
    if kind in ("only_a", "only_b") and x["path"] == x["entry"] or (kind in ("only_a", "only_b")
                                                                   and "/" in path and "." not in path):
        side = kind[-1]
        return f"{'-' if side == 'a' else '+'} {path}  (only in {side}: {_entry_only(x[side])})"
    if kind == "changed":
        return f"~ {path}: {_v(x['a'])} -> {_v(x['b'])}"
    if kind == "only_a":
        return f"- {path} = {_v(x['a'])}  (only in a)"
    if kind == "only_b":
        return f"+ {path} = {_v(x['b'])}  (only in b)"
    if kind == "length":
        return f"~ {path}: {x['a']} -> {x['b']} elements"
    if kind == "elided":
        return (f"~ {path}: {x['count']} more differing element(s) not listed, the first at "
                f"[{x['first']}] (--all lists them)")
    if kind == "version":
        return f"  written at version {x['a']} in a, {x['b']} in b"
    d = x["diagnostic"]
    return (f"! {x['side']}: {d['severity']}[{d['code']}] at offset {d['offset']} {d['path'] or '(stream)'}: "
            f"{d['message']}")


def _desc(s: dict) -> str:
    return (f"{s['blob']} ({s['schema']}, {s['byteorder'] or 'unknown'}-endian, {s['size']} bytes, "
            f"{s['entries']} entr{'y' if s['entries'] == 1 else 'ies'})")


def _both(summ: dict) -> str:
    n = summ["entries_compared"]
    return f"{n} entr{'y' if n == 1 else 'ies'} in both"


def text(diffs: list[dict], summ: dict, sides: list[dict]) -> str:
    lines = [f"a: {_desc(sides[0])}", f"b: {_desc(sides[1])}"]
    entry = None
    for x in diffs:
        if x["kind"] == "decode_error":
            lines.append(line_of(x))
            continue
        if x["kind"] in ("only_a", "only_b") and x["path"] == x["entry"]:
            lines.append(line_of(x))
            entry = None
            continue
        if x["entry"] != entry:
            entry = x["entry"]
            lines.append(entry)
        lines.append("  " + line_of(x))
    n = summ["differences"]
    if n:
        parts = [f"{summ[k]} {label}" for k, label in (
            ("changed", "changed"), ("only_a", "only in a"), ("only_b", "only in b"),
            ("length", "array length(s)"), ("elided", "more element(s) not listed"),
            ("decode_error", "decode error(s)")) if summ[k]]
        lines.append(f"{n} difference{'s' if n != 1 else ''}: {', '.join(parts)} ({_both(summ)})")
    else:
        lines.append(f"no difference ({_both(summ)}"
                     + (f"; {summ['version']} written at another version" if summ["version"] else "") + ")")
    return "\n".join(lines) + "\n"


# --- GitHub Actions ---------------------------------------------------------------

def _gh_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(s: str) -> str:
    return _gh_data(s).replace(":", "%3A").replace(",", "%2C")


def _location(x: dict, set_a, set_b):
    """The declaration of the differing field (or state) in a working-tree schema file, if any."""
    path = x["path"]
    if not x["entry"]:
        return None
    state_name = x["entry"].split("[", 1)[0]
    rest = path[len(x["entry"]):]
    if "/" in rest:  # a subsection
        sub = rest[1:].split(".", 1)
        state_name, rest = sub[0].split("[", 1)[0], ("." + sub[1]) if len(sub) > 1 else ""
    field = rest[1:].split(".", 1)[0].split("[", 1)[0] if rest.startswith(".") else None
    for ss in ((set_a, set_b) if x["kind"] == "only_a" else (set_b, set_a)):
        st = ss.states.get(state_name)
        if st is None:
            continue
        f = st.field(field) if field else None
        span = f.span if f is not None else st.span
        if span and Path(span.file).is_file():
            return span
    return None


def github(diffs: list[dict], summ: dict, sides: list[dict], set_a, set_b) -> str:
    out = []
    for x in diffs:
        level = "notice" if x["kind"] == "version" else "error"
        props = []
        span = _location(x, set_a, set_b)
        if span is not None:
            props += [f"file={_gh_prop(span.file)}", f"line={span.line}", f"col={span.column}"]
        props.append(f"title={_gh_prop('kstate diff: ' + x['kind'])}")
        msg = f"{x['entry'] + ': ' if x['entry'] else ''}{line_of(x).strip()}"
        out.append(f"::{level} {','.join(props)}::{_gh_data(msg)}")
    n = summ["differences"]
    out.append(f"::notice title=kstate diff::{_gh_data(sides[0]['blob'] + ' vs ' + sides[1]['blob'])}: "
               f"{n} difference{'s' if n != 1 else ''}")
    return "\n".join(out) + "\n"
