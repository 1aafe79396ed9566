"""``kstate.toml``: a project's defaults, so CI jobs and Makefiles need no
long command lines.

The file is found by walking up from the working directory (the first
``kstate.toml`` wins, like ``pyproject.toml``).  Paths in it are relative to
the folder that holds it.  Every key is optional; an argument given on the
command line wins over the file::

    [kstate]
    schemas = ["schemas"]          # compile's PATHs; check's NEW; decode/encode --schema
    out = "generated"              # compile -o
    langs = ["python", "c", "json", "docs"]   # compile --lang

    [check]
    baseline = "git:origin/main"   # check's OLD (git:REF alone: the schemas folder at REF)
    waivers = "waivers.toml"       # check/matrix --waivers
    fail_on = "error"              # check --fail-on
    direction = "update"           # check --direction

An unknown table or key, or a value of the wrong type, is an error at its
line (``kstate.toml:3:1: error[BAD_CONFIG]: ...``), exit 2.  The file is
the project's, so in a pull request it is the attacker's: every path in it
(``schemas``, ``out``, ``waivers``, a non-git ``baseline``) must be relative
and stay inside the folder that holds it, symbolic links resolved
(docs/security.md); the file itself is read only as a regular file of at
most ``MAX_BYTES``.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from . import tomltext
from .errors import Diagnostic, SchemaError, SourceMap, Span
from .readfile import FileRefused, read_regular

NAME = "kstate.toml"
MAX_BYTES = 1024 * 1024

# table -> key -> (description of the value, check)
_STR = ("a string", lambda v: isinstance(v, str) and v != "")
_STRS = ("a list of strings", lambda v: isinstance(v, list) and bool(v)
         and all(isinstance(x, str) and x for x in v))
SCHEMA = {
    "kstate": {"schemas": _STRS, "out": _STR, "langs": _STRS},
    "check": {"baseline": _STR, "waivers": _STR,
              "fail_on": ('"error" or "warning"', lambda v: v in ("error", "warning")),
              "direction": ('"update", "rollback" or "both"', lambda v: v in ("update", "rollback", "both"))},
}


@dataclass
class Config:
    path: Path | None = None  # the kstate.toml, None when there is none
    values: dict = field(default_factory=dict)  # (table, key) -> value

    def get(self, table: str, key: str):
        return self.values.get((table, key))

    def _rel(self, p: str) -> str:
        """A path of the file, as seen from the working directory."""
        assert self.path is not None
        full = Path(p) if os.path.isabs(p) else self.path.parent / p
        rel = os.path.relpath(full, Path.cwd())
        return Path(rel).as_posix()

    def path_value(self, table: str, key: str) -> str | None:
        v = self.get(table, key)
        return None if v is None else self._rel(v)

    def schemas(self) -> list[str] | None:
        v = self.get("kstate", "schemas")
        return None if v is None else [self._rel(p) for p in v]

    def langs(self) -> str | None:
        v = self.get("kstate", "langs")
        return None if v is None else ",".join(v)

    def baseline(self) -> str | None:
        v = self.get("check", "baseline")
        if v is None or not v.startswith("git:"):
            return None if v is None else self._rel(v)
        if ":" in v[len("git:"):]:
            return v
        # git:REF alone: the configured schemas folder, at REF
        schemas = self.get("kstate", "schemas")
        if not schemas or len(schemas) != 1:
            return v
        prefix = _git_prefix(self.path.parent)
        if prefix is None:
            return v
        return f"{v}:{(Path(prefix) / schemas[0]).as_posix()}"

    def where(self, table: str, key: str) -> str:
        return f"{self.path.as_posix() if self.path else NAME} [{table}] {key}"


def _git_prefix(folder: Path) -> str | None:
    try:
        proc = subprocess.run(["git", "-C", str(folder), "rev-parse", "--show-prefix"],
                              capture_output=True, text=True, check=False)
    except OSError:
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def find(start: Path | None = None) -> Path | None:
    cur = (start or Path.cwd()).resolve()
    for folder in [cur, *cur.parents]:
        candidate = folder / NAME
        if candidate.is_file():
            return candidate
    return None


def _display(path: Path) -> str:
    try:
        return Path(os.path.relpath(path, Path.cwd())).as_posix()
    except ValueError:
        return path.as_posix()


def _positions(text: str) -> tuple[dict, dict]:
    """Where each table header and each ``key =`` line is: (table -> span
    args, (table, key) -> span args).  tomllib reports no positions."""
    tables: dict[str, tuple[int, int]] = {}
    keys: dict[tuple[str, str], tuple[int, int]] = {}
    table = ""
    header = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]")
    keyline = re.compile(r'^(\s*)("?)([A-Za-z0-9_.-]+)\2\s*=')
    for n, line in enumerate(text.splitlines(), 1):
        h = header.match(line)
        if h:
            table = h.group(1).strip().strip('"')
            tables.setdefault(table, (n, line.index("[") + 1))
            continue
        k = keyline.match(line)
        if k:
            name = k.group(3)
            if "." in name and not k.group(2):  # dotted key: a.b = 1 is table a, key b
                t, _, name = name.rpartition(".")
                keys.setdefault((f"{table}.{t}".strip("."), name), (n, len(k.group(1)) + 1))
                keys.setdefault(("", t.split(".")[0]) if not table else (table, t.split(".")[0]),
                                (n, len(k.group(1)) + 1))
            keys.setdefault((table, name), (n, len(k.group(1)) + 1))
    return tables, keys


def load(path: Path) -> Config:
    shown = _display(path)
    try:
        raw = read_regular(path, MAX_BYTES, "a project file", shown)
    except FileRefused as err:
        raise _error(shown, None, err.message) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise _error(shown, (line, 1), f"{shown} is not valid UTF-8 (byte {err.start})") from None
    smap = SourceMap()
    smap.add(shown, text)
    try:
        doc = tomltext.loads(text)
    except tomltext.TomlError as err:
        raise _error(shown, err.pos, err.message, smap) from None
    tables, keys = _positions(text)
    diags: list[Diagnostic] = []
    values: dict = {}

    def at(pos) -> Span | None:
        return Span(shown, pos[0], pos[1]) if pos else None

    for table, body in doc.items():
        if table not in SCHEMA:
            diags.append(Diagnostic("BAD_CONFIG", f"unknown table [{table}] in {NAME}",
                                    at(tables.get(table) or keys.get(("", table))),
                                    help=f"the tables are {', '.join(f'[{t}]' for t in SCHEMA)}"))
            continue
        if not isinstance(body, dict):
            diags.append(Diagnostic("BAD_CONFIG", f"'{table}' must be a table: [{table}]",
                                    at(keys.get(("", table)))))
            continue
        for key, value in body.items():
            pos = at(keys.get((table, key)) or tables.get(table))
            rule = SCHEMA[table].get(key)
            if rule is None:
                diags.append(Diagnostic("BAD_CONFIG", f"unknown key '{key}' in [{table}]", pos,
                                        help=f"[{table}] takes {', '.join(SCHEMA[table])}"))
                continue
            what, ok = rule
            if not ok(value):
                diags.append(Diagnostic("BAD_CONFIG", f"[{table}] {key} must be {what}, not {value!r}",
                                        pos, help=f"write it like: {_example(table, key)}"))
                continue
            if (table, key) == ("kstate", "langs"):
                from .backends import available

                unknown = [l for l in value if l not in available()]
                if unknown:
                    diags.append(Diagnostic("BAD_CONFIG", f"[kstate] langs: unknown language "
                                            f"{', '.join(map(repr, unknown))}", pos,
                                            help=f"choose from {', '.join(available())}"))
                    continue
            outside = _outside(path.parent, table, key, value)
            if outside is not None:
                diags.append(Diagnostic("BAD_CONFIG", f"[{table}] {key}: '{outside}' is outside the folder "
                                        f"of {NAME}", pos, help="give a path relative to that folder, inside it"))
                continue
            values[(table, key)] = value
    if diags:
        raise SchemaError(diags, smap)
    return Config(path, values)


PATH_KEYS = {("kstate", "schemas"), ("kstate", "out"), ("check", "waivers"), ("check", "baseline")}


def _outside(folder: Path, table: str, key: str, value) -> str | None:
    """The first path of a path key that is absolute or leaves ``folder``."""
    if (table, key) not in PATH_KEYS:
        return None
    root = folder.resolve()
    for p in value if isinstance(value, list) else [value]:
        if (table, key) == ("check", "baseline") and p.startswith("git:"):
            continue  # a git side: read from the object store, checked by kstate.gitside
        if os.path.isabs(p) or not (root / p).resolve().is_relative_to(root):
            return p
    return None


def _example(table: str, key: str) -> str:
    return {
        ("kstate", "schemas"): 'schemas = ["schemas"]', ("kstate", "out"): 'out = "generated"',
        ("kstate", "langs"): 'langs = ["python", "c", "json", "docs"]',
        ("check", "baseline"): 'baseline = "git:origin/main"', ("check", "waivers"): 'waivers = "waivers.toml"',
        ("check", "fail_on"): 'fail_on = "error"', ("check", "direction"): 'direction = "update"',
    }[(table, key)]


def _error(shown: str, pos, message: str, smap: SourceMap | None = None) -> SchemaError:
    span = Span(shown, pos[0], pos[1]) if pos else Span(shown, 1, 1)
    return SchemaError([Diagnostic("BAD_CONFIG", message, span)], smap)


_cache: dict[Path, Config] = {}


def current() -> Config:
    """The configuration of the working directory (an empty one without a file)."""
    path = find()
    if path is None:
        return Config()
    if path not in _cache:
        _cache[path] = load(path)
    return _cache[path]
