"""Waivers: known breaks accepted on purpose, with a reason (TOML).

```toml
[[waiver]]
rule = "MIN_VERSION_EXCLUDES_OLD"
state = "memfd"            # optional: field = "...", direction = "..."
reason = "6.20 no longer restores memfd state from kernels before 6.18"
```

A waiver matches a finding when the rule and every optional key given are
equal.  A waived finding stays in the output with ``waived: true``; a
waiver that matches nothing becomes a ``WAIVER_UNUSED`` warning pointing at
the waiver file.  A malformed file, an unknown rule or key, or a missing
reason is a ``UsageError`` (exit 2).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace

from ..errors import UsageError
from ..readfile import read_regular
from .finding import Finding
from .rules import BY_NAME

KEYS = ("rule", "state", "field", "direction", "reason")
MAX_WAIVER_BYTES = 1024 * 1024  # a waiver is a few lines; thousands fit


@dataclass(frozen=True)
class Waiver:
    rule: str
    reason: str
    index: int  # 1-based, in file order
    state: str | None = None
    field: str | None = None
    direction: str | None = None

    def matches(self, f: Finding) -> bool:
        return (f.rule == self.rule and self.state in (None, f.state)
                and self.field in (None, f.field) and self.direction in (None, f.direction))

    def describe(self) -> str:
        parts = [f"rule = {self.rule}"]
        for key in ("state", "field", "direction"):
            if getattr(self, key) is not None:
                parts.append(f"{key} = {getattr(self, key)}")
        return ", ".join(parts)


def load_waivers(path: str) -> list[Waiver]:
    raw = read_regular(path, MAX_WAIVER_BYTES, "a waiver file")
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise UsageError(f"{path}: not valid TOML: {err}") from None
    extra = sorted(set(doc) - {"waiver"})
    if extra:
        raise UsageError(f"{path}: unknown top-level key(s) {', '.join(extra)}; use [[waiver]] tables")
    items = doc.get("waiver", [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise UsageError(f"{path}: 'waiver' must be an array of tables ([[waiver]])")
    out: list[Waiver] = []
    for n, item in enumerate(items, 1):
        where = f"{path}: waiver #{n}"
        unknown = sorted(set(item) - set(KEYS))
        if unknown:
            raise UsageError(f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(KEYS)})")
        for key in KEYS:
            if key in item and not isinstance(item[key], str):
                raise UsageError(f"{where}: '{key}' must be a string")
        rule = item.get("rule")
        if not rule:
            raise UsageError(f"{where}: 'rule' is required")
        if rule not in BY_NAME or rule == "WAIVER_UNUSED":
            raise UsageError(f"{where}: unknown rule '{rule}' (see kstate check --list-rules)")
        reason = item.get("reason", "")
        if not reason.strip():
            raise UsageError(f"{where} ({rule}): a waiver needs a reason = \"...\" saying why the break "
                             "is accepted")
        direction = item.get("direction")
        if direction not in (None, "update", "rollback"):
            raise UsageError(f"{where}: direction must be 'update' or 'rollback', not '{direction}'")
        out.append(Waiver(rule, reason, n, item.get("state"), item.get("field"), direction))
    return out


def apply_waivers(findings: list[Finding], waivers: list[Waiver], path: str) -> list[Finding]:
    """Mark waived findings; add WAIVER_UNUSED for each waiver that matched nothing."""
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
            out.append(Finding(rule="WAIVER_UNUSED", direction=w.direction, file_only=path, pair=10 ** 6 + w.index,
                               message=f"waiver #{w.index} ({w.describe()}) matched no finding",
                               hint="delete the waiver, or correct its rule/state/field/direction"))
    return out
