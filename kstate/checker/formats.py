"""Printing findings: text (compiler style), json (docs/cli.md's shape), GitHub
Actions workflow commands, and SARIF 2.1.0.

Formatters only print: they receive findings already sorted, de-duplicated
and marked waived, and never decide anything.  Every text that came from
input (waiver reasons, old/new values, file names, side names) is escaped
here, in the one place each format is rendered: ``printable`` for text and
GitHub (no control character survives, so no line break can start a forged
``::error``), JSON escaping plus ``json_text`` for json and SARIF.
"""

from __future__ import annotations

import json

from .. import __version__
from ..errors import Diagnostic
from ..diagnostic_formats import sarif_location
from ..escape import json_text, printable
from .finding import Finding, Summary
from .locations import on_disk
from .rules import RULES

FORMATS = ("text", "json", "github", "sarif")


def render(fmt: str, findings: list[Finding], old: str, new: str) -> str:
    return {"text": text, "json": to_json, "github": github, "sarif": sarif}[fmt](findings, old, new)


# --- text ----------------------------------------------------------------------


def _label(f: Finding) -> str:
    return f"waived {f.severity}" if f.waived else f.severity


def text_one(f: Finding) -> str:
    notes = []
    if f.old_side is not None and f.new_side is not None:
        pair = f"{f.old_side} -> {f.new_side}"
        notes.append(f"{f.direction} {pair}" + (f", state {f.state}" if f.state else "")
                     + (f" v{f.version}" if f.version is not None else ""))
    if f.old is not None:
        notes.append(f"old: {f.old}")
    if f.new is not None:
        notes.append(f"new: {f.new}")
    if f.waived:
        notes.append(f"waived: {f.waiver_reason}")
    if f.text_span is not None and f.text_span != f.span:
        notes.append(f"{f.blame.upper()}'s text: {f.text_span}" + _quoted_line(f.text_sources, f.text_span))
    if f.span is None:
        head = f"{printable(f.file or 'kstate')}: {_label(f)}[{f.rule}]: {printable(f.message)}"
        return "\n".join([head] + [f"    note: {printable(n)}" for n in notes]
                         + ([f"    help: {printable(f.hint)}"] if f.hint else []))
    return Diagnostic(f.rule, f.message, f.span, _label(f), tuple(notes), help=f.hint).render(f.sources)


def _quoted_line(sources, span) -> str:
    line = sources.line(span) if sources is not None else None
    return f": {line.strip()}" if line and line.strip() else ""


def summary_line(findings: list[Finding], old: str, new: str) -> str:
    s = Summary.of(findings)

    def n(k: int, word: str) -> str:
        return f"{k} {word}{'' if k == 1 else 's'}"

    return (f"kstate check {printable(old)} -> {printable(new)}: {n(s.errors, 'error')}, "
            f"{n(s.warnings, 'warning')}, {s.waived} waived")


def text(findings: list[Finding], old: str, new: str) -> str:
    blocks = [text_one(f) for f in findings]
    return "\n\n".join(blocks + [summary_line(findings, old, new)]) + "\n"


# --- json ----------------------------------------------------------------------


def to_json(findings: list[Finding], old: str, new: str) -> str:
    doc = {"old": old, "new": new, "findings": [f.to_json() for f in findings],
           "summary": Summary.of(findings).to_json()}
    return json_text(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"


# --- GitHub Actions --------------------------------------------------------------


def _gh_data(s: str) -> str:
    """A workflow command's message: ``%``, CR and LF are the runner's own
    escapes; every other control character is ``printable``-escaped."""
    return printable(s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def _gh_prop(s: str) -> str:
    return _gh_data(s).replace(":", "%3A").replace(",", "%2C")


def github(findings: list[Finding], old: str, new: str) -> str:
    lines = []
    for f in findings:
        cmd = "notice" if f.waived else f.severity
        props = []
        if f.file:
            props.append(f"file={_gh_prop(f.file)}")
        if f.line is not None:
            props.append(f"line={f.line}")
        if f.column is not None:
            props.append(f"col={f.column}")
        props.append(f"title={_gh_prop(f.rule + (' (waived)' if f.waived else ''))}")
        msg = f.message + (f" (waived: {f.waiver_reason})" if f.waived else "")
        if f.hint:
            msg += f"\nhelp: {f.hint}"  # the runner shows %0A as a line break
        lines.append(f"::{cmd} {','.join(props)}::{_gh_data(msg)}")
    return "".join(line + "\n" for line in lines)


# --- SARIF 2.1.0 -----------------------------------------------------------------

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def sentence(text: str) -> str:
    """``text`` ended with a full stop (unless it ends with one already).  The first letter is
    kept: a message may start with a name (``dev's version ...``)."""
    text = text.strip()
    return text if not text or text[-1] in ".!?" else text + "."


def _sarif_fixes(f: Finding) -> list[dict]:
    """The hint's edits as one SARIF ``fix``, when NEW is a working-tree side (its files exist)."""
    if not f.edits or f.new_side is None or not on_disk(f.new_side):
        return []
    changes: dict[str, list] = {}
    for e in sorted(f.edits, key=lambda e: (e.file, e.line, e.column)):
        changes.setdefault(e.file, []).append({
            "deletedRegion": {"startLine": e.line, "startColumn": e.column, "endLine": e.line,
                              "endColumn": e.column + len(e.old)},
            "insertedContent": {"text": e.new}})
    return [{"description": {"text": sentence(f.hint or "")},
             "artifactChanges": [{"artifactLocation": {"uri": file}, "replacements": reps}
                                 for file, reps in changes.items()]}]


def sarif(findings: list[Finding], old: str, new: str) -> str:
    index = {r.name: i for i, r in enumerate(RULES)}
    rules = [{
        "id": r.name,
        "name": "".join(w.capitalize() for w in r.name.split("_")),
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": f"{r.summary}. Fix: {r.fix}."},
        "help": {"text": r.fix},
        "defaultConfiguration": {"level": r.severity},
        "properties": {"category": r.category},
    } for r in RULES]
    results = []
    for f in findings:
        result: dict = {
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": f.severity,
            "message": {"text": sentence(f.message) + (f" Help: {sentence(f.hint)}" if f.hint else "")},
        }
        fixes = _sarif_fixes(f)
        if fixes:
            result["fixes"] = fixes
        if f.file:
            result["locations"] = [sarif_location(f.file, f.line, f.column)]
        if f.text_span is not None and f.text_span != f.span:
            related = sarif_location(f.text_span.file, f.text_span.line, f.text_span.column)
            related["id"] = 1
            related["message"] = {"text": f"{f.blame.upper()}'s text"}
            result["relatedLocations"] = [related]
        if f.waived:
            result["suppressions"] = [{"kind": "external", "justification": f.waiver_reason or ""}]
        result["properties"] = {k: v for k, v in f.to_json().items()
                                if k in ("direction", "old_side", "new_side", "state", "state_id", "field",
                                         "version", "old", "new", "hint", "old_file", "old_line",
                                         "old_column")}
        results.append(result)
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "kstate", "version": __version__,
                                "rules": rules}},
            "properties": {"old": old, "new": new},
            "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": []}],
            "results": results,
        }],
    }
    return json_text(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"
