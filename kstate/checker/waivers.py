"""Waivers: known breaks accepted on purpose, with a reason (TOML).

```toml
[[waiver]]
rule = "MIN_VERSION_EXCLUDES_OLD"
state = "memfd"            # required: the state, or "*" for every state
reason = "6.20 no longer restores memfd state from kernels before 6.18"
# optional: field = "...", direction = "update" | "rollback"
```

A waiver matches a finding when the rule and every key given are equal
(``state = "*"`` matches every state, and findings of no state).  A waived
finding stays in the output with ``waived: true``; a waiver that matches
nothing becomes a ``WAIVER_UNUSED`` warning at the waiver's ``[[waiver]]``
line.  A waiver file that is not valid TOML, an unknown rule (with the
nearest rule name as a suggestion) or key, a missing ``state`` or
``reason`` is a ``BAD_WAIVER`` error at its line of the file (exit 2), every
one of them reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from dataclasses import field as dc_field

from .. import tomltext
from ..errors import Diagnostic, SchemaError, SourceMap, Span
from ..readfile import read_regular
from ..suggest import did_you_mean
from .finding import Finding
from .rules import BY_NAME

KEYS = ("rule", "state", "field", "direction", "reason")
EVERY_STATE = "*"
MAX_WAIVER_BYTES = 1024 * 1024  # a waiver is a few lines; thousands fit
CODE = "BAD_WAIVER"


@dataclass(frozen=True)
class Waiver:
    rule: str
    reason: str
    index: int  # 1-based, in file order
    state: str | None = None  # None: given as "*"
    field: str | None = None
    direction: str | None = None
    span: Span | None = None  # the [[waiver]] line
    sources: SourceMap | None = dc_field(default=None, compare=False, repr=False)  # the file's text

    def matches(self, f: Finding) -> bool:
        return (f.rule == self.rule and self.state in (None, f.state)
                and self.field in (None, f.field) and self.direction in (None, f.direction))

    def describe(self) -> str:
        parts = [f"rule = {self.rule}", f"state = {self.state or EVERY_STATE}"]
        for key in ("field", "direction"):
            if getattr(self, key) is not None:
                parts.append(f"{key} = {getattr(self, key)}")
        return ", ".join(parts)


@dataclass
class _Places:
    """Where each ``[[waiver]]`` header and each of its keys is written (tomllib gives no
    positions): the n-th header is the n-th waiver."""

    headers: list[tuple[int, int]]
    keys: dict[tuple[int, str], tuple[int, int]]  # (waiver index, key) -> the value's position
    names: dict[tuple[int, str], tuple[int, int]]  # (waiver index, key) -> the key's position

    @classmethod
    def of(cls, text: str) -> "_Places":
        headers, keys, names = [], {}, {}
        header = re.compile(r"^\s*\[\[\s*waiver\s*\]\]")
        keyline = re.compile(r'^\s*("?)([A-Za-z0-9_-]+)\1\s*=\s*')
        other = re.compile(r"^\s*\[")
        inside = False
        for n, line in enumerate(text.splitlines(), 1):
            if header.match(line):
                headers.append((n, line.index("[") + 1))
                inside = True
            elif other.match(line):
                inside = False
            elif inside and (k := keyline.match(line)):
                keys.setdefault((len(headers), k.group(2)), (n, k.end() + 1))
                names.setdefault((len(headers), k.group(2)), (n, k.start(2) + 1 - len(k.group(1))))
        return cls(headers, keys, names)

    def header(self, index: int) -> tuple[int, int] | None:
        return self.headers[index - 1] if 0 < index <= len(self.headers) else None

    def key(self, index: int, key: str) -> tuple[int, int] | None:
        """Where the value of ``key`` is written (else the waiver's header)."""
        return self.keys.get((index, key)) or self.header(index)

    def name(self, index: int, key: str) -> tuple[int, int] | None:
        """Where ``key`` itself is written (else the waiver's header)."""
        return self.names.get((index, key)) or self.header(index)


def load_waivers(path: str) -> list[Waiver]:
    raw = read_regular(path, MAX_WAIVER_BYTES, "a waiver file")
    smap = SourceMap()

    def error(pos, message: str, help: str | None = None) -> Diagnostic:
        return Diagnostic(CODE, message, Span(path, *(pos or (1, 1))), help=help)

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise SchemaError([error((line, 1), f"a waiver file is UTF-8 text; byte {err.start} is not")]) from None
    smap.add(path, text)
    try:
        doc = tomltext.loads(text)
    except tomltext.TomlError as err:
        raise SchemaError([error(err.pos, err.message)], smap) from None
    places = _Places.of(text)
    extra = sorted(set(doc) - {"waiver"})
    if extra:
        raise SchemaError([error(None, f"unknown top-level key(s) {', '.join(extra)}",
                                 help="write each waiver as a [[waiver]] table")], smap)
    items = doc.get("waiver", [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise SchemaError([error(None, "'waiver' must be an array of tables",
                                 help="write each waiver as a [[waiver]] table")], smap)
    out: list[Waiver] = []
    diags: list[Diagnostic] = []
    for n, item in enumerate(items, 1):
        found = _one(n, item, places, error)
        if isinstance(found, list):
            diags.extend(found)
        else:
            out.append(replace(found, span=Span(path, *(places.header(n) or (1, 1))), sources=smap))
    if diags:
        raise SchemaError(sorted(diags, key=lambda d: (d.span.line, d.span.column)), smap)
    return out


def _one(n: int, item: dict, places: _Places, error) -> "Waiver | list[Diagnostic]":
    """Waiver number ``n``, or the errors that refuse it."""
    diags = []
    for key in sorted(set(item) - set(KEYS)):
        diags.append(error(places.name(n, key), f"waiver #{n}: unknown key '{key}'",
                           help=did_you_mean(key, KEYS) or f"a waiver takes {', '.join(KEYS)}"))
    wrong = [key for key in KEYS if key in item and not isinstance(item[key], str)]
    for key in wrong:
        diags.append(error(places.key(n, key), f"waiver #{n}: '{key}' must be a string",
                           help=f'write it like: {key} = "..."'))
    if wrong:
        return diags
    rule = item.get("rule")
    if not rule:
        diags.append(error(places.header(n), f"waiver #{n} has no 'rule'",
                           help='name the rule it accepts: rule = "FIELD_DROPPED" (kstate check --list-rules)'))
    elif rule not in BY_NAME or rule == "WAIVER_UNUSED":
        diags.append(error(places.key(n, "rule"), f"waiver #{n}: unknown rule '{rule}'",
                           help=did_you_mean(rule, [r for r in BY_NAME if r != "WAIVER_UNUSED"])
                           or "see kstate check --list-rules"))
    state = item.get("state")
    if state is None or not state.strip():
        diags.append(error(places.key(n, "state") if state is not None else places.header(n),
                           f"waiver #{n}" + (f" ({rule})" if rule else "") + " does not say which state it "
                           "waives the rule for", help='add state = "NAME" (the finding\'s state), or state = "*" '
                                                      'to waive it for every state'))
    reason = item.get("reason", "")
    if not reason.strip():
        diags.append(error(places.key(n, "reason") if "reason" in item else places.header(n),
                           f"waiver #{n}" + (f" ({rule})" if rule else "") + " has no reason",
                           help='say why the break is accepted: reason = "..."'))
    direction = item.get("direction")
    if direction not in (None, "update", "rollback"):
        diags.append(error(places.key(n, "direction"), f"waiver #{n}: unknown direction '{direction}'",
                           help=did_you_mean(direction, ("update", "rollback"))
                           or 'direction = "update" or direction = "rollback"'))
    if diags:
        return diags
    return Waiver(rule, reason, n, None if state == EVERY_STATE else state, item.get("field"), direction)


def apply_waivers(findings: list[Finding], waivers: list[Waiver], path: str) -> list[Finding]:
    """Mark waived findings; add WAIVER_UNUSED for each waiver that matched nothing, at its
    ``[[waiver]]`` line."""
    used: set[int] = set()
    out: list[Finding] = []
    for f in findings:
        w = next((w for w in waivers if w.matches(f)), None)
        if w is not None:
            used.add(w.index)
            f = replace(f, waived=True, waiver_reason=w.reason)
        out.append(f)
    for w in waivers:
        if w.index not in used:
            out.append(Finding(rule="WAIVER_UNUSED", direction=w.direction, file_only=path, span=w.span,
                               sources=w.sources, pair=10 ** 6 + w.index,
                               message=f"waiver #{w.index} ({w.describe()}) matched no finding",
                               hint="delete the waiver, or correct its rule/state/field/direction"))
    return out
