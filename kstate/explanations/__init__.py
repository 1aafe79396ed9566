"""The long explanation of every code kstate reports: what ``kstate explain
CODE`` prints and what docs/language.md lists (the same text, one source).

The texts live beside this module, one Markdown file per kind of code:

- ``compile.md``: the diagnostics of reading schemas (``kstate compile``,
  and every command that loads a side), of snapshots and of kstate.toml;
- ``decode.md``: the diagnostics of ``kstate decode`` (and encode's byte
  checks), their severities from ``kstate.codec.decoder.SEVERITY``;
- ``check.md``: examples for the rules of ``kstate check``; each rule's
  severity, question and usual fix come from the catalogue
  (``kstate.checker.rules.RULES``), never copied.

A source file is a sequence of ``## CODE`` sections (``## CODE (warning)``
for a compile code that is not an error).  A section's first paragraph is
its one-line summary.  A line ``Example:``, ``Old:``, ``New:`` or ``Fix:``
(``Fix (in words):`` too) starts a group of fenced blocks: ```` ```kstate ```` (a schema file, named
after the language word when it is not ``example.kstate``), ```` ```toml
kstate.toml ````, ```` ```json NAME ````, ```` ```hex NAME ```` (bytes,
``#`` comments) and ```` ```console ```` (the ``$ kstate ...`` command that
shows the code).  tests/test_explain.py runs every example and fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

KINDS = ("compile", "decode", "check")
TITLES = {"compile": "Compile codes", "decode": "Decode codes", "check": "Check rules"}
GROUPS = ("Example", "Old", "New", "Fix")
DEFAULT_FILE = {"kstate": "example.kstate", "hex": "blob.bin"}

_SECTION = re.compile(r"^## ([A-Z][A-Z0-9_]*)(?: \((error|warning|info)\))?[ \t]*$", re.M)
_FENCE = re.compile(r"^```([a-z]*)(?:[ \t]+(\S+))?[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
_GROUP = re.compile(r"^(" + "|".join(GROUPS) + r")(?: \([^)\n]*\))?:[ \t]*$", re.M)


@dataclass(frozen=True)
class Block:
    """One fenced block of an example: its language word, file name and text."""

    lang: str
    file: str | None
    text: str

    def to_json(self) -> dict:
        return {"lang": self.lang, "file": self.file, "text": self.text}


@dataclass(frozen=True)
class Explanation:
    code: str
    kind: str  # compile | decode | check
    severity: str
    summary: str  # one line
    body: str  # Markdown: everything after the heading
    groups: tuple[tuple[str, tuple[Block, ...]], ...]  # ("Example", blocks), ("Fix", blocks), ...

    def blocks(self, group: str) -> tuple[Block, ...]:
        return dict(self.groups).get(group, ())

    @property
    def heading(self) -> str:
        return f"### `{self.code}` ({self.kind} {self.severity})"

    def text(self) -> str:
        """The section as kstate explain prints it and docs/language.md holds it."""
        return f"{self.heading}\n\n{self.body}\n"

    def to_json(self) -> dict:
        return {"code": self.code, "kind": self.kind, "severity": self.severity, "summary": self.summary,
                "text": self.body, **{g.lower(): [b.to_json() for b in blocks] for g, blocks in self.groups}}


def _groups(body: str) -> tuple[tuple[str, tuple[Block, ...]], ...]:
    marks = list(_GROUP.finditer(body))
    out = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(body)
        blocks = tuple(Block(f.group(1), f.group(2) or DEFAULT_FILE.get(f.group(1)), f.group(3))
                       for f in _FENCE.finditer(body, m.end(), end))
        out.append((m.group(1), blocks))
    return tuple(out)


def _parse(kind: str, source: str):
    """(code, severity written in the heading or None, body) for each section of a source file."""
    heads = list(_SECTION.finditer(source))
    for i, h in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(source)
        yield h.group(1), h.group(2), source[h.end():end].strip()


def _check_prefix(rule) -> str:
    """The catalogue's words for a rule, as the first paragraphs of its explanation."""
    return f"{_sentence(rule.summary)}\n\n**The usual fix:** {_sentence(rule.fix)}"


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _load() -> tuple[Explanation, ...]:
    from ..checker.rules import BY_NAME
    from ..codec.decoder import SEVERITY

    out = []
    for kind in KINDS:
        source = resources.files(__package__).joinpath(f"{kind}.md").read_text(encoding="utf-8")
        for code, severity, body in _parse(kind, source):
            if kind == "check":
                rule = BY_NAME.get(code)
                if rule is None:
                    raise RuntimeError(f"{kind}.md explains {code}, which is not a rule of the catalogue")
                body = f"{_check_prefix(rule)}\n\n{body}".strip()
                severity = rule.severity
            elif kind == "decode":
                severity = SEVERITY.get(code, "error")
            summary = rule.summary if kind == "check" else body.split("\n\n", 1)[0].replace("\n", " ")
            out.append(Explanation(code, kind, severity or "error", _sentence(summary) if kind == "check"
                                   else summary, body, _groups(body)))
    return tuple(out)


_CACHE: tuple[Explanation, ...] | None = None


def explanations() -> tuple[Explanation, ...]:
    """Every explanation: compile codes, then decode codes, then check rules, each in source order."""
    global _CACHE
    if _CACHE is None:
        _CACHE = _load()
    return _CACHE


def codes() -> list[str]:
    """Every explained code, sorted, once each."""
    return sorted({e.code for e in explanations()})


def lookup(code: str) -> list[Explanation]:
    """The explanations of ``code`` (one per kind that has it; none for an unknown code)."""
    return [e for e in explanations() if e.code == code]


def docs_markdown() -> str:
    """Every explanation, grouped by kind: the generated part of docs/language.md."""
    parts = []
    for kind in KINDS:
        parts.append(f"## {TITLES[kind]}\n")
        parts.extend(e.text() for e in explanations() if e.kind == kind)
    return "\n".join(parts)


BEGIN = ("<!-- BEGIN explanations: generated from kstate/explanations/*.md by "
         "`python -m kstate.explanations docs/language.md`; edit those files, not this part -->")
END = "<!-- END explanations -->"


def with_docs(page: str) -> str:
    """``page`` (docs/language.md's text) with its generated part replaced by ``docs_markdown()``."""
    start, stop = page.find(BEGIN), page.find(END)
    if start < 0 or stop < start:
        raise ValueError("the page has no BEGIN/END explanations markers")
    return page[:start] + BEGIN + "\n\n" + docs_markdown() + "\n" + page[stop:]
