"""Print the long explanation of a code: a compile diagnostic
(`error[BAD_ID]`), a decode diagnostic (`"code": "VERSION_TOO_NEW"`) or a
check rule (`FIELD_DROPPED`), with an example that produces it and the fix.

The texts are the ones docs/language.md lists.  A code two kinds share
(`BAD_SIZE`, `LIMIT_EXCEEDED`) prints each kind's; --kind picks one.
Without a CODE it lists every code with its one-line summary.  Codes are
matched case-insensitively, and `error[CODE]` as pasted from a log works.
An unknown code exits 2 with the nearest known one.
"""

from __future__ import annotations

import json
import re
import sys

_PASTED = re.compile(r"^(?:error|warning|info)\[([^\]]*)\]:?$", re.I)


def add_arguments(p) -> None:
    p.add_argument("code", nargs="?", metavar="CODE", help="the code, e.g. BAD_ID or FIELD_DROPPED "
                                                           "(without it: list every code)")
    p.add_argument("--kind", choices=("compile", "decode", "check"), help="only this kind's explanation (or list)")
    p.add_argument("--all", action="store_true", help="print every explanation (the Markdown docs/language.md holds)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")


def _wanted(code: str) -> str:
    code = code.strip()
    m = _PASTED.match(code)
    return (m.group(1) if m else code).strip().upper()


def _unknown(code: str, kind: str | None):
    from ..errors import UsageError
    from ..explanations import explanations
    from ..suggest import did_you_mean

    pool = sorted({e.code for e in explanations() if kind in (None, e.kind)})
    what = f"no {kind} code" if kind else "no code"
    hint = did_you_mean(code, pool)
    return UsageError(f"{what} named '{code}'",
                      help=hint or f"run 'kstate explain{' --kind ' + kind if kind else ''}' to list the codes")


def run(args) -> int:
    from ..errors import UsageError
    from ..explanations import docs_markdown, explanations, lookup

    if args.code is None:
        chosen = [e for e in explanations() if args.kind in (None, e.kind)]
        if args.all:
            if args.format == "json":
                _json({"explanations": [e.to_json() for e in chosen]})
            elif args.kind:
                sys.stdout.write("\n".join(e.text() for e in chosen))
            else:
                sys.stdout.write(docs_markdown())
            return 0
        if args.format == "json":
            _json({"codes": [{"code": e.code, "kind": e.kind, "severity": e.severity, "summary": e.summary}
                             for e in chosen]})
            return 0
        width = max(len(e.code) for e in chosen)
        for e in chosen:
            sys.stdout.write(f"{e.code:<{width}}  {e.kind:<7}  {e.severity:<7}  {e.summary}\n")
        return 0
    if args.all:
        raise UsageError("give a CODE or --all, not both")
    code = _wanted(args.code)
    found = [e for e in lookup(code) if args.kind in (None, e.kind)]
    if not found:
        raise _unknown(code, args.kind)
    if args.format == "json":
        _json({"code": code, "explanations": [e.to_json() for e in found]})
    else:
        sys.stdout.write("\n".join(e.text() for e in found))
    return 0


def _json(doc) -> None:
    sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
