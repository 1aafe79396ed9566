"""Compile diagnostics in the four output formats ``check`` prints findings in.

``kstate compile --format`` prints a run's diagnostics (errors and warnings)
this way, and ``kstate check --format json|github|sarif`` prints them when a
side does not compile, so a CI log or code-scanning upload stays well-formed
and names the broken line instead of being empty.

- text:   the compiler-style rendering (``FILE:LINE:COL: error[CODE]: ...``)
- json:   ``{"diagnostics": [{"code", "severity", "message", "file", "line",
  "column"}], "summary": {"errors", "warnings"}}`` plus what the caller adds
- github: ``::error file=F,line=L,col=C,title=CODE::message``
- sarif:  each diagnostic a result, and an invocation with
  ``executionSuccessful`` false when any is an error, listing the errors as
  ``toolExecutionNotifications``
"""

from __future__ import annotations

import json

from . import __version__
from .errors import ERROR, Diagnostic, SourceMap
from .escape import json_text

FORMATS = ("text", "json", "github", "sarif")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def summary(diagnostics: list[Diagnostic]) -> dict:
    errors = sum(1 for d in diagnostics if d.severity == ERROR)
    return {"errors": errors, "warnings": len(diagnostics) - errors}


def to_json_list(diagnostics: list[Diagnostic]) -> list[dict]:
    return [d.to_json() for d in diagnostics]


def text(diagnostics: list[Diagnostic], sources: SourceMap | None) -> str:
    return "".join(d.render(sources) + "\n" for d in diagnostics)


def github(diagnostics: list[Diagnostic]) -> str:
    from .checker.formats import _gh_data, _gh_prop

    lines = []
    for d in diagnostics:
        cmd = "error" if d.severity == ERROR else "warning"
        props = []
        if d.span is not None:
            props += [f"file={_gh_prop(d.span.file)}", f"line={d.span.line}", f"col={d.span.column}"]
        props.append(f"title={_gh_prop(d.code)}")
        message = d.message + "".join(f" ({n})" for n in d.notes)
        lines.append(f"::{cmd} {','.join(props)}::{_gh_data(message)}\n")
    return "".join(lines)


def sarif_location(file: str, line: int | None, column: int | None) -> dict:
    loc: dict = {"artifactLocation": {"uri": file}}
    if line is not None:
        loc["region"] = {"startLine": line, "startColumn": column or 1}
    return {"physicalLocation": loc}


def sarif_results(diagnostics: list[Diagnostic]) -> list[dict]:
    out = []
    for d in diagnostics:
        result: dict = {"ruleId": d.code, "level": "error" if d.severity == ERROR else "warning",
                        "message": {"text": d.message + "".join(f" ({n})" for n in d.notes)}}
        if d.span is not None:
            result["locations"] = [sarif_location(d.span.file, d.span.line, d.span.column)]
        out.append(result)
    return out


def sarif_invocation(diagnostics: list[Diagnostic]) -> dict:
    notes = []
    for d in diagnostics:
        if d.severity != ERROR:
            continue
        note: dict = {"level": "error", "message": {"text": d.message}, "descriptor": {"id": d.code}}
        if d.span is not None:
            note["locations"] = [sarif_location(d.span.file, d.span.line, d.span.column)]
        notes.append(note)
    return {"executionSuccessful": not notes, "toolExecutionNotifications": notes}


def sarif(diagnostics: list[Diagnostic], properties: dict | None = None) -> str:
    run: dict = {
        "tool": {"driver": {"name": "kstate", "version": __version__, "rules": []}},
        "invocations": [sarif_invocation(diagnostics)],
        "results": sarif_results(diagnostics),
    }
    if properties:
        run["properties"] = properties
    doc = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json_text(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"


def render(fmt: str, diagnostics: list[Diagnostic], sources: SourceMap | None,
           extra: dict | None = None) -> str:
    """The diagnostics in ``fmt``; ``extra`` adds keys to the json document and
    the SARIF run's properties."""
    if fmt == "text":
        return text(diagnostics, sources)
    if fmt == "github":
        return github(diagnostics)
    if fmt == "sarif":
        return sarif(diagnostics, extra)
    doc = dict(extra or {})
    doc["diagnostics"] = to_json_list(diagnostics)
    doc["summary"] = summary(diagnostics)
    return json_text(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"


def from_error(err) -> tuple[list[Diagnostic], SourceMap | None]:
    """The diagnostics of a KstateError: a SchemaError's own, else one without
    a position carrying the message (a bad argument, an unreadable file)."""
    from .errors import SchemaError

    if isinstance(err, SchemaError):
        return err.diagnostics, err.sources
    return [Diagnostic(getattr(err, "code", "USAGE"), str(err))], None
