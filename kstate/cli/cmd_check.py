"""Check that a newer kernel's schemas can restore everything an older
kernel's schemas write (and, with --direction rollback, the reverse).

Each side is a .kstate file, a folder of them, a snapshot JSON written by
`kstate compile`, or git:REF[:PATH] (PATH defaults to schemas/).  With more
than two sides (oldest first) each neighbouring pair is checked;
--transitive checks every older side against every newer one.

Exit codes: 0 nothing at or above --fail-on; 1 an incompatible change (or a
warning with --fail-on warning); 2 could not check (bad arguments,
unreadable or broken schemas, a bad git ref, a bad waiver file).
"""

from __future__ import annotations

import sys

from ..checker.chain import check_chain
from ..checker.finding import Summary, sort_findings
from ..checker.formats import FORMATS, render
from ..checker.rules import listing
from ..checker.waivers import apply_waivers, load_waivers
from ..errors import UsageError
from ..sides import load_side

NAME = "check"
HELP = "check compatibility between schemas (refuse silent data loss across a live update)"


def add_arguments(p) -> None:
    p.add_argument("sides", nargs="*", metavar="SIDE",
                   help="OLD NEW [MORE...]: .kstate file, folder, snapshot JSON or git:REF[:PATH]")
    p.add_argument("--direction", choices=("update", "rollback", "both"), default="update",
                   help="update: OLD writes, NEW restores (default); rollback: the reverse; both")
    p.add_argument("--transitive", action="store_true",
                   help="with 3+ sides, also check every older side against every newer one")
    p.add_argument("--waivers", metavar="FILE", help="TOML file of [[waiver]] rule/state/field/direction/reason")
    p.add_argument("--fail-on", choices=("error", "warning"), default="error",
                   help="lowest severity that makes the exit code 1 (default: error)")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    p.add_argument("--list-rules", action="store_true", help="print the rule catalogue and exit")


def run(args) -> int:
    if args.list_rules:
        print(listing("json" if args.format == "json" else "text"))
        return 0
    if len(args.sides) < 2:
        raise UsageError("check needs at least two sides: OLD NEW [MORE...]")
    waivers = load_waivers(args.waivers) if args.waivers else []
    sides = []
    for spec in args.sides:
        schema_set = load_side([spec])
        if args.format == "text":
            for w in schema_set.warnings:
                print(w.render(schema_set.sources), file=sys.stderr)
        sides.append((spec, schema_set))
    findings = check_chain(sides, args.direction, args.transitive)
    if args.waivers:
        findings = sort_findings(apply_waivers(findings, waivers, args.waivers))
    old, new = args.sides[0], args.sides[-1]
    sys.stdout.write(render(args.format, findings, old, new))
    summary = Summary.of(findings)
    failing = summary.errors + (summary.warnings if args.fail_on == "warning" else 0)
    return 1 if failing else 0
