"""Check that a newer kernel's schemas can restore everything an older
kernel's schemas write (and, with --direction rollback, the reverse).

Each side is a .kstate file, a folder of them, a snapshot JSON written by
`kstate compile`, or git:REF[:PATH] (PATH defaults to schemas/).  With more
than two sides (oldest first) each neighbouring pair is checked;
--transitive checks every older side against every newer one.

Exit codes: 0 nothing at or above --fail-on; 1 an incompatible change (or a
warning with --fail-on warning); 2 could not check (bad arguments,
unreadable or broken schemas, a bad git ref, a bad waiver file); in the
json, github and sarif formats the output then still is well-formed and
carries the errors (json "diagnostics", GitHub ::error lines, SARIF results
with executionSuccessful false).

Defaults come from the project's kstate.toml ([check] baseline, waivers,
fail_on, direction; [kstate] schemas); arguments win.
"""

from __future__ import annotations

import json
import sys



def add_arguments(p) -> None:
    from ..checker.formats import FORMATS

    p.add_argument("sides", nargs="*", metavar="SIDE",
                   help="OLD NEW [MORE...]: .kstate file, folder, snapshot JSON or git:REF[:PATH]; "
                        "with kstate.toml, no sides checks [check] baseline against [kstate] schemas, "
                        "one side checks the baseline against it")
    p.add_argument("--direction", choices=("update", "rollback", "both"),
                   help="update: OLD writes, NEW restores (default); rollback: the reverse; both")
    p.add_argument("--transitive", action="store_true",
                   help="with 3+ sides, also check every older side against every newer one")
    p.add_argument("--waivers", metavar="FILE", help="TOML file of [[waiver]] rule/state/field/direction/reason")
    p.add_argument("--fail-on", choices=("error", "warning"),
                   help="lowest severity that makes the exit code 1 (default: error)")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    p.add_argument("--list-rules", action="store_true", help="print the rule catalogue and exit")


def _sides(args, cfg) -> list[str]:
    from ..errors import UsageError

    if len(args.sides) >= 2:
        return args.sides
    baseline = cfg.baseline()
    if baseline is None:
        raise UsageError("check needs at least two sides: OLD NEW [MORE...]"
                         + ("" if cfg.path else " (or a kstate.toml with [check] baseline)"))
    if args.sides:
        return [baseline, *args.sides]
    schemas = cfg.schemas()
    if not schemas:
        raise UsageError(f"{cfg.where('kstate', 'schemas')}: not set; check needs NEW: give it as an argument")
    if len(schemas) != 1:
        raise UsageError(f"{cfg.where('kstate', 'schemas')}: check compares one folder; give NEW as an argument")
    return [baseline, schemas[0]]


def run(args) -> int:
    from .. import config
    from ..checker.chain import check_chain
    from ..checker.finding import Summary, sort_findings
    from ..checker.formats import render
    from ..checker.rules import listing
    from ..checker.waivers import apply_waivers, load_waivers
    from ..errors import KstateError
    from ..sides import load_side

    if args.list_rules:
        print(listing("json" if args.format == "json" else "text"))
        return 0
    specs: list[str] = list(args.sides)
    try:
        cfg = config.current()
        specs = _sides(args, cfg)
        direction = args.direction or cfg.get("check", "direction") or "update"
        fail_on = args.fail_on or cfg.get("check", "fail_on") or "error"
        waiver_file = args.waivers or cfg.path_value("check", "waivers")
        waivers = load_waivers(waiver_file) if waiver_file else []
        sides = []
        for spec in specs:
            schema_set = load_side([spec])
            if args.format == "text":
                for w in schema_set.warnings:
                    print(w.render(schema_set.sources), file=sys.stderr)
            sides.append((spec, schema_set))
    except KstateError as err:
        if args.format == "text":
            raise
        return _failed(args, err, specs)
    findings = check_chain(sides, direction, args.transitive)
    if waiver_file:
        findings = sort_findings(apply_waivers(findings, waivers, waiver_file))
    old, new = specs[0], specs[-1]
    sys.stdout.write(render(args.format, findings, old, new))
    summary = Summary.of(findings)
    failing = summary.errors + (summary.warnings if fail_on == "warning" else 0)
    return 1 if failing else 0


def _failed(args, err, specs: list[str]) -> int:
    """A side that does not compile (or a bad argument) in a machine format: the
    output stays well-formed and carries the errors; exit 2."""
    from ..diagnostic_formats import from_error, render as render_diagnostics, summary, to_json_list
    from ..errors import SchemaError

    diagnostics, sources = from_error(err)
    # on stderr, what the text format prints (a schema's errors end with the summary line)
    print(err.render() if isinstance(err, SchemaError) else render_diagnostics("text", diagnostics, sources),
          end="\n" if isinstance(err, SchemaError) else "", file=sys.stderr)
    old = specs[0] if specs else None
    new = specs[-1] if len(specs) > 1 else None
    if args.format == "json":
        doc = {"old": old, "new": new, "findings": [], "diagnostics": to_json_list(diagnostics),
               "summary": {**summary(diagnostics), "waived": 0}}
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(render_diagnostics(args.format, diagnostics, sources, {"old": old, "new": new}))
    return 2
