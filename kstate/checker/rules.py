"""The rule catalogue: every rule the checker can report, as data.

Each rule has a stable name (what findings, waivers and SARIF carry), a
severity, the question it answers and the usual fix.  The table is the one
place that knows severities; ``kstate check --list-rules`` prints it and the
SARIF formatter emits one ``rule`` per entry.
"""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Rule:
    name: str
    severity: str
    category: str  # state | version | field | enum | subsection | history | waiver
    summary: str
    fix: str


RULES: tuple[Rule, ...] = (
    Rule("STATE_DELETED", ERROR, "state",
         "a state OLD writes has no state with its id in NEW, and NEW does not retire that id",
         "restore the state, or retire its id with 'retired state NAME { id = N; reason = \"...\"; }'"),
    Rule("STATE_ID_CHANGED", ERROR, "state",
         "a state keeps its name but its id changed: OLD's entries would be unknown to NEW",
         "give the state its old id back; ids are what the wire carries"),
    Rule("STATE_RETIRED", WARNING, "state",
         "NEW retires the id: OLD's entries are reported and skipped, by decision",
         "nothing to do if this is intended; waive it to record the decision"),
    Rule("STATE_ID_REUSED", ERROR, "state",
         "NEW gives a retired id, or an id OLD used for a different, incompatible state, to a state",
         "pick a fresh id for the new state; a retired or reused id makes NEW misread OLD's entries"),
    Rule("STATE_RENAMED", WARNING, "state",
         "same id, same layout, new name",
         "nothing to do if the rename is intended (the wire carries ids, not names)"),
    Rule("VERSION_REGRESSED", ERROR, "version",
         "OLD.version > NEW.version: NEW cannot read what OLD writes",
         "keep NEW's version at least OLD's, and keep describing that layout"),
    Rule("MIN_VERSION_EXCLUDES_OLD", ERROR, "version",
         "OLD.version < NEW.min_version: NEW refuses OLD's data; the update path is cut",
         "lower min_version to OLD's version, or waive this if the update path is cut on purpose"),
    Rule("FIELD_DROPPED", ERROR, "field",
         "a field in layout_OLD(v) has no counterpart in layout_NEW(v)",
         "keep the field with @removed(N, \"why\") where N > OLD's version, or raise min_version"),
    Rule("FIELD_ADDED_UNVERSIONED", ERROR, "field",
         "layout_NEW(v) has a field layout_OLD(v) lacks: NEW would read bytes OLD never wrote",
         "mark the field @since(NEW.version) and bump version"),
    Rule("FIELD_TYPE_CHANGED", ERROR, "field",
         "same field, different wire type (width, signedness, kind, scalar/array, struct layout, ...)",
         "restore the old type; to change a type add a new @since field and @removed the old one"),
    Rule("FIELD_REORDERED", ERROR, "field",
         "the same fields in another order",
         "put the fields back in OLD's order; the wire is positional"),
    Rule("ARRAY_SHAPE_CHANGED", ERROR, "field",
         "a fixed count changed, [N] vs [count] vs [..], or the count field changed",
         "restore the old array shape; to change it add a new @since field and @removed the old one"),
    Rule("FIXED_VALUE_CHANGED", ERROR, "field",
         "a '= value' field expects another value",
         "restore the old fixed value, or version the change (@since/@removed)"),
    Rule("BOUNDS_NARROWED", ERROR, "field",
         "@max lowered or @range narrowed: OLD may write values NEW rejects",
         "keep the bounds at least as wide as OLD's"),
    Rule("ENUM_VALUE_CHANGED", ERROR, "enum",
         "an enum or flags name OLD may write has another value in NEW",
         "give the name its old value back; add a new name for the new value"),
    Rule("ENUM_VALUE_REMOVED", ERROR, "enum",
         "a value OLD may write has no name in NEW",
         "keep a name for the value (it may be renamed, e.g. to FOO_DEPRECATED)"),
    Rule("ENUM_VALUE_ADDED", WARNING, "enum",
         "NEW names a value OLD does not know (a rollback risk)",
         "nothing to do for the update; a rollback to OLD would not know the value"),
    Rule("SUBSECTION_DROPPED", ERROR, "subsection",
         "OLD's state declares a subsection that NEW's does not: the kernel would skip it silently",
         "keep declaring the subsection in NEW"),
    Rule("SUBSECTION_ADDED", WARNING, "subsection",
         "NEW's state declares a subsection OLD's does not (a rollback risk)",
         "nothing to do for the update; a rollback to OLD would skip the subsection"),
    Rule("HISTORY_REWRITTEN", ERROR, "history",
         "both schemas describe an older version u < v of the state, differently",
         "describe the older versions exactly as OLD does (keep @since/@removed as they were)"),
    Rule("FIELD_RENAMED", WARNING, "field",
         "same position, same wire type, new name",
         "nothing to do if the rename is intended"),
    Rule("VERSION_BUMP_WITHOUT_CHANGE", WARNING, "version",
         "NEW.version > OLD.version but the layouts are the same: a bump that only costs rollback",
         "keep OLD's version unless the layout really changed"),
    Rule("LAYOUT_CHANGED_WITHOUT_BUMP", ERROR, "version",
         "NEW.version == OLD.version and the layouts' wire types differ",
         "bump version and mark the change with @since/@removed"),
    Rule("RETIREMENT_DROPPED", WARNING, "state",
         "OLD retires an id that NEW no longer lists as retired (the id could be reused by mistake)",
         "keep the 'retired state' item in NEW"),
    Rule("WAIVER_UNUSED", WARNING, "waiver",
         "a waiver matched no finding",
         "delete the waiver, or fix its rule/state/field/direction so it matches"),
)

BY_NAME: dict[str, Rule] = {r.name: r for r in RULES}


def severity(name: str) -> str:
    return BY_NAME[name].severity


def listing(fmt: str = "text") -> str:
    """The table as ``kstate check --list-rules`` prints it (text, or JSON with ``--format json``)."""
    if fmt == "json":
        import json

        return json.dumps([{"rule": r.name, "severity": r.severity, "category": r.category,
                            "summary": r.summary, "fix": r.fix} for r in RULES], indent=2)
    width = max(len(r.name) for r in RULES)
    lines = [f"{r.name:<{width}}  {r.severity:<7}  {r.summary}" for r in RULES]
    return "\n".join(lines)
