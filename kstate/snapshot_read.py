"""Reading a snapshot JSON back into the model: a second front end.

A snapshot is input (a CI artifact, a release tree, a ``git:`` ref), so it
goes through the same rules as ``.kstate`` text, in the same order:

1. ``_Shape``      the JSON itself: size (``MAX_SNAPSHOT_BYTES``), syntax,
                   every key and type, names that are identifiers, bounded
                   texts, positions; no work proportional to any value;
2. ``_Syntax``     the document as syntax trees (``syntax.py``), one per
                   schema file, exactly what the parser would have built
                   from the sources;
3. ``build``       the language's semantic passes (``build.py``): every
                   rule and limit of ``.kstate`` files (versions, ids,
                   ``@range`` fitting its type, counts, layouts, ...);
4. ``_agree``      the facts the snapshot stores that the model derives
                   (layouts, sizes, wire types, C names, offsets, parents)
                   must be the ones the model computed.

Every problem is a ``Diagnostic`` positioned in the snapshot's text (line
and column of the JSON value) whose message starts with the value's JSON
path: ``snap.json:57:18: error[BAD_VERSION]: $.states[0].version: ...``.
The syntax trees carry placeholder spans (``_PLACE``, one per JSON path)
that are mapped back to those positions; on success the model gets the
source positions the snapshot recorded.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from . import model as m
from . import syntax as s
from .build import build
from .errors import Diagnostic, Reporter, SchemaError, SourceMap, Span
from .limits import MAX_NAME_LENGTH, MAX_SNAPSHOT_BYTES, MAX_TEXT_LENGTH
from .loader import MAX_IMPORT_DEPTH, SourceFile, _find_cycles
from .names import is_identifier

CODE = "BAD_SNAPSHOT"
MAX_ERRORS = 100  # reported per snapshot; the rest are counted
MAX_LINE = (1 << 31) - 1
_PLACE = "\x00snapshot"  # the file of placeholder spans; no display can be this
_PLACE_RE = re.compile(re.escape(_PLACE) + r":(\d+):1")
# what a path in the snapshot may look like: relative, '/'-separated, no
# control, bidi or line-break characters, no backslash
_BAD_PATH_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\\\\\u061c\u200e\u200f\u2028\u2029"
                             "\u202a-\u202e\u2066-\u2069]")
_EXPR = re.compile(r"[A-Za-z0-9_ ()+\-*/%<>&|^~]*")
MAX_PATH_LENGTH = 4096
MAX_EXPR_LENGTH = 4096


class _Stop(Exception):
    """Too many errors: stop looking."""


# --- positions in the JSON text ---------------------------------------------


def _steps(path: str) -> list:
    return [int(i) if i else k for k, i in re.findall(r"\.(\w+)|\[(\d+)\]", path[1:])]


def locate(text: str, path: str) -> int:
    """The offset of the value at ``path`` (``$.states[0].version``) in ``text``;
    where the path stops matching, the offset of the deepest value found."""
    dec = json.JSONDecoder()
    ws = re.compile(r"[ \t\n\r]*")

    def skip(pos: int) -> int:
        return ws.match(text, pos).end()

    def past_value(pos: int) -> int:
        """Past the value at ``pos`` and its ``,`` if any."""
        _, pos = dec.raw_decode(text, pos)
        pos = skip(pos)
        return skip(pos + 1) if text[pos] == "," else pos

    pos = skip(0)
    try:
        for step in _steps(path):
            if isinstance(step, str):
                if text[pos] != "{":
                    return pos
                at, i, found = skip(pos + 1), 0, None
                while text[at] != "}":
                    key, at = dec.raw_decode(text, at)
                    at = skip(skip(at) + 1)  # past ':'
                    if key == step:
                        found = at
                    at = past_value(at)
                    i += 1
                if found is None:
                    return pos
                pos = found
            else:
                if text[pos] != "[":
                    return pos
                at, i, found = skip(pos + 1), 0, None
                while text[at] != "]":
                    if i == step:
                        found = at
                        break
                    at = past_value(at)
                    i += 1
                if found is None:
                    return pos
                pos = found
    except (ValueError, IndexError, RecursionError):
        pass
    return pos


class _JsonText(SourceMap):
    """The snapshot's lines for caret rendering (a line too long to show is left out)."""

    def __init__(self, origin: str, text: str):
        super().__init__()
        self.origin = origin
        self.text = text

    def line(self, span: Span) -> str | None:
        if span.file != self.origin:
            return None
        start = 0
        for _ in range(span.line - 1):
            start = self.text.find("\n", start) + 1
            if start == 0:
                return None
        end = self.text.find("\n", start)
        line = self.text[start:] if end < 0 else self.text[start:end]
        return line if len(line) <= 200 else None

    def span(self, path: str) -> Span:
        pos = locate(self.text, path)
        line = self.text.count("\n", 0, pos) + 1
        return Span(self.origin, line, pos - self.text.rfind("\n", 0, pos))


# --- 1. the shape of the document -------------------------------------------

_MISSING = object()


class _Shape:
    """Checks keys and types, collecting ``(path, code, message)``."""

    def __init__(self):
        self.errors: list[tuple[str, str, str]] = []
        self.dropped = 0

    def error(self, path: str, message: str, code: str = CODE) -> None:
        if len(self.errors) >= MAX_ERRORS:
            self.dropped += 1
            if self.dropped > 10 * MAX_ERRORS:
                raise _Stop()
            return
        self.errors.append((path, code, message))

    def obj(self, value, path: str, required: tuple, optional: tuple = ()) -> dict | None:
        if not isinstance(value, dict):
            self.error(path, f"expected an object, found {_kind(value)}")
            return None
        for key in required:
            if key not in value:
                self.error(path, f"missing key \"{key}\"")
        known = set(required) | set(optional)
        for key in value:
            if key not in known:
                self.error(f"{path}.{key}" if is_identifier(key) else path,
                           f"unknown key {_show(key)}")
        return value

    def list(self, value, path: str) -> list:
        if not isinstance(value, list):
            if value is not _MISSING:
                self.error(path, f"expected an array, found {_kind(value)}")
            return []
        return value

    def int(self, value, path: str, lo: int | None = None, hi: int | None = None, null: bool = False):
        if value is None and null:
            return None
        if type(value) is not int:
            if value is not _MISSING:
                self.error(path, f"expected an integer{' or null' if null else ''}, found {_kind(value)}")
            return _MISSING
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            self.error(path, f"expected an integer in {lo} .. {hi}, found {_show_int(value)}")
            return _MISSING
        return value

    def bool(self, value, path: str):
        if type(value) is not bool:
            if value is not _MISSING:
                self.error(path, f"expected true or false, found {_kind(value)}")
            return _MISSING
        return value

    def text(self, value, path: str, null: bool = True, limit: int = MAX_TEXT_LENGTH):
        if value is None and null:
            return None
        if type(value) is not str:
            if value is not _MISSING:
                self.error(path, f"expected a string{' or null' if null else ''}, found {_kind(value)}")
            return _MISSING
        if len(value) > limit:
            self.error(path, f"expected at most {limit} characters, found {len(value)}")
            return _MISSING
        return value

    def name(self, value, path: str, null: bool = False):
        text = self.text(value, path, null=null, limit=MAX_NAME_LENGTH)
        if text is None or text is _MISSING:
            return text
        if not is_identifier(text):
            self.error(path, f"expected a name (letters, digits and _, not starting with a digit), "
                       f"found {_show(text)}")
            return _MISSING
        return text

    def choice(self, value, path: str, choices: tuple):
        if value not in choices or type(value) is not str:
            if value is not _MISSING:
                self.error(path, "expected one of " + ", ".join(f'"{c}"' for c in choices)
                           + f", found {_show(value)}")
            return _MISSING
        return value

    def file_path(self, value, path: str, display: bool = False):
        text = self.text(value, path, null=False, limit=MAX_PATH_LENGTH)
        if text is _MISSING:
            return text
        parts = text.split("/")
        bad = (not text or _BAD_PATH_CHARS.search(text) or text.startswith("/")
               or any(p in ("", ".") for p in parts)
               or (not display and (".." in parts or not text.endswith(".kstate"))))
        if bad:
            what = "" if display else " of a .kstate file"
            self.error(path, f"expected a relative '/'-separated path{what}"
                       f" without '.', '..' or control characters, found {_show(text)}")
            return _MISSING
        return text

    def position(self, d: dict, path: str, where: str | None = None):
        """The ``file``/``line``/``column`` keys of ``d``."""
        f = self.text(d.get("file", _MISSING), f"{path}.file", null=False, limit=MAX_PATH_LENGTH)
        line = self.int(d.get("line", _MISSING), f"{path}.line", 1, MAX_LINE)
        col = self.int(d.get("column", _MISSING), f"{path}.column", 1, MAX_LINE)
        if where is not None and f is not _MISSING and f != where:
            self.error(f"{path}.file", f"expected the file of its item, \"{where}\", found {_show(f)}")
            return None
        if _MISSING in (f, line, col):
            return None
        return Span(f, line, col)


_POS = ("file", "line", "column")


def _kind(value) -> str:
    if value is _MISSING:
        return "nothing"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"the integer {_show_int(value)}"
    return {str: "a string", float: "a number with a fraction or exponent", list: "an array",
            dict: "an object"}.get(type(value), type(value).__name__)


def _show(value) -> str:
    if not isinstance(value, str):
        return _kind(value)
    text = json.dumps(value[:40], ensure_ascii=True)
    return text + ("..." if len(value) > 40 else "")


def _show_int(value: int) -> str:
    digits = len(str(abs(value))) if abs(value) < 1 << 256 else None
    return str(value) if digits is not None and digits <= 40 else f"an integer of {value.bit_length()} bits"


# --- 2. the document as syntax trees ------------------------------------------


class _Syntax:
    """Builds one ``SyntaxFile`` per schema file; every node's span is a
    placeholder naming the JSON path it came from."""

    def __init__(self, doc: dict, shape: _Shape):
        self.doc = doc
        self.v = shape
        self.paths: list[str] = []
        self.spans: dict = {}  # (kind, name) -> the item's Span in the sources
        self.items: dict = {}  # (kind, name) -> (json path, dict)
        self.member_spans: dict = {}  # json path of a member -> Span
        self.sources: list[SourceFile] = []

    def sp(self, path: str) -> Span:
        self.paths.append(path)
        return Span(_PLACE, len(self.paths), 1)

    def name(self, value, path: str) -> s.Name:
        return s.Name(value, self.sp(path))

    def lit(self, value: int, path: str, text: str = "") -> s.IntLit:
        return s.IntLit(value, self.sp(path), text)

    # items

    def run(self) -> list[SourceFile]:
        v, doc = self.v, self.doc
        kinds = {"constants": "const", "enums": "enum", "structs": "struct", "states": "state",
                 "retired": "retired"}
        for key, kind in kinds.items():
            for i, d in enumerate(v.list(doc.get(key, _MISSING), f"$.{key}")):
                path = f"$.{key}[{i}]"
                if not isinstance(d, dict):
                    v.obj(d, path, ())
                    continue
                name = v.name(d.get("name", _MISSING), f"{path}.name")
                if name is _MISSING:
                    continue
                if (kind, name) in self.items:
                    v.error(f"{path}.name", f"{kind} '{name}' is listed twice "
                            f"(first at {self.items[(kind, name)][0]})", "DUPLICATE_NAME")
                    continue
                self.items[(kind, name)] = (path, d)
        files = v.list(doc.get("files", _MISSING), "$.files")
        by_path: dict[str, int] = {}
        displays: dict[str, int] = {}
        for i, fd in enumerate(files):
            path = f"$.files[{i}]"
            if v.obj(fd, path, ("path", "display", "imports", "items")) is None:
                continue
            p = v.file_path(fd.get("path", _MISSING), f"{path}.path")
            d = v.file_path(fd.get("display", _MISSING), f"{path}.display", display=True)
            if p is not _MISSING and p in by_path:
                v.error(f"{path}.path", f"file {_show(p)} is listed twice (first at $.files[{by_path[p]}])")
            elif p is not _MISSING:
                by_path[p] = i
            if d is not _MISSING and d in displays:
                v.error(f"{path}.display", f"display {_show(d)} is listed twice")
            elif d is not _MISSING:
                displays[d] = i
        srcs: dict[int, SourceFile] = {}
        listed: dict = {}
        for i, fd in enumerate(files):
            if not isinstance(fd, dict):
                continue
            path = f"$.files[{i}]"
            p, d = fd.get("path"), fd.get("display")
            usable = type(p) is str and type(d) is str and by_path.get(p) == i and displays.get(d) == i
            items = []
            for j, it in enumerate(v.list(fd.get("items", _MISSING), f"{path}.items")):
                ipath = f"{path}.items[{j}]"
                if v.obj(it, ipath, ("kind", "name")) is None:
                    continue
                kind = v.choice(it.get("kind", _MISSING), f"{ipath}.kind",
                                ("const", "enum", "struct", "state", "retired"))
                name = v.name(it.get("name", _MISSING), f"{ipath}.name")
                if _MISSING in (kind, name):
                    continue
                if (kind, name) not in self.items:
                    v.error(f"{ipath}", f"no {kind} named '{name}' in the snapshot")
                    continue
                if (kind, name) in listed:
                    v.error(ipath, f"{kind} '{name}' is already listed at {listed[(kind, name)]}")
                    continue
                listed[(kind, name)] = ipath
                node = self.item(kind, name, d) if usable else None
                if node is not None:
                    items.append(node)
            if not usable:
                continue
            srcs[i] = SourceFile(Path("/kstate-snapshot") / p, d, s.SyntaxFile(p, d, items), rel=p)
        for key in self.items:
            if key not in listed:
                v.error(self.items[key][0], f"{key[0]} '{key[1]}' is in no file's \"items\"")
        real = {fd["path"]: srcs[i].real for i, fd in enumerate(files) if i in srcs}
        for i, src in srcs.items():
            for j, imp in enumerate(v.list(files[i].get("imports", _MISSING), f"$.files[{i}].imports")):
                ipath = f"$.files[{i}].imports[{j}]"
                if type(imp) is not str or imp not in real:
                    v.error(ipath, f"expected the path of a file of the snapshot, found {_show(imp)}")
                    continue
                if real[imp] in src.imports:
                    v.error(ipath, f"{_show(imp)} is imported twice")
                    continue
                src.imports.append(real[imp])
                src.import_spans.append(self.sp(ipath))
        self.sources = [srcs[i] for i in sorted(srcs)]
        return self.sources

    def item(self, kind: str, name: str, display: str):
        path, d = self.items[(kind, name)]
        v = self.v
        keys = {
            "const": ("name", "value", "expr", "doc"),
            "enum": ("name", "kind", "type", "doc", "values"),
            "struct": ("name", "c_name", "size", "doc", "members"),
            "state": ("name", "id", "version", "min_version", "c_name", "parent", "doc", "id_position",
                      "version_position", "min_version_position", "members", "subsections", "layouts"),
            "retired": ("name", "id", "reason", "doc"),
        }[kind]
        v.obj(d, path, keys + _POS)
        span = v.position(d, path, display)
        if span is not None:
            self.spans[(kind, name)] = span
        doc = v.text(d.get("doc", _MISSING), f"{path}.doc")
        doc = None if doc is _MISSING else doc
        nm = self.name(name, f"{path}.name")
        if kind == "const":
            value = v.int(d.get("value", _MISSING), f"{path}.value")
            expr = v.text(d.get("expr", _MISSING), f"{path}.expr", null=False, limit=MAX_EXPR_LENGTH)
            if expr is not _MISSING and not _EXPR.fullmatch(expr):
                v.error(f"{path}.expr", f"expected an expression of names, numbers and operators, "
                        f"found {_show(expr)}")
                expr = _MISSING
            if _MISSING in (value, expr):
                return None
            return s.ConstDecl(nm, self.lit(value, f"{path}.value", expr), self.sp(path), doc)
        if kind == "enum":
            ek = v.choice(d.get("kind", _MISSING), f"{path}.kind", ("enum", "flags"))
            base = v.name(d.get("type", _MISSING), f"{path}.type")
            members = []
            for i, vd in enumerate(v.list(d.get("values", _MISSING), f"{path}.values")):
                vp = f"{path}.values[{i}]"
                if v.obj(vd, vp, ("name", "value", "c_name", "doc") + _POS) is None:
                    continue
                self.member_spans[vp] = v.position(vd, vp, display)
                vn = v.name(vd.get("name", _MISSING), f"{vp}.name")
                vv = v.int(vd.get("value", _MISSING), f"{vp}.value")
                v.name(vd.get("c_name", _MISSING), f"{vp}.c_name")
                vdoc = v.text(vd.get("doc", _MISSING), f"{vp}.doc")
                if _MISSING in (vn, vv, vdoc):
                    continue
                members.append(s.EnumMember(self.name(vn, f"{vp}.name"), self.lit(vv, f"{vp}.value"),
                                            self.sp(vp), vdoc))
            if _MISSING in (ek, base):
                return None
            return s.EnumDecl(ek, nm, self.name(base, f"{path}.type"), members, self.sp(path), doc)
        if kind == "struct":
            v.name(d.get("c_name", _MISSING), f"{path}.c_name")
            v.int(d.get("size", _MISSING), f"{path}.size", 0)
            members = self.members(d, path, display)
            return s.StructDecl(nm, members, self.sp(path), doc)
        if kind == "retired":
            sid = v.int(d.get("id", _MISSING), f"{path}.id")
            reason = v.text(d.get("reason", _MISSING), f"{path}.reason", null=False)
            if _MISSING in (sid, reason):
                return None
            return s.RetiredDecl(nm, self.lit(sid, f"{path}.id"),
                                 s.StringLit(reason, self.sp(f"{path}.reason")), [], self.sp(path), doc)
        return self.state(d, path, nm, doc, display)

    def state(self, d: dict, path: str, nm: s.Name, doc, display: str) -> s.StateDecl | None:
        v = self.v
        props = []
        for key in ("id", "version", "min_version"):
            value = v.int(d.get(key, _MISSING), f"{path}.{key}")
            if value is _MISSING:
                return None
            if key != "min_version" or d.get("min_version_position") is not None \
                    or d.get("min_version") != d.get("version"):
                props.append(s.Property(key, self.lit(value, f"{path}.{key}"), self.sp(f"{path}.{key}")))
        for key in ("id_position", "version_position", "min_version_position"):
            pos = d.get(key, _MISSING)
            if pos is not None and v.obj(pos, f"{path}.{key}", _POS) is not None:
                v.position(pos, f"{path}.{key}", display)
        v.name(d.get("c_name", _MISSING), f"{path}.c_name")
        v.name(d.get("parent", _MISSING), f"{path}.parent", null=True)
        members = self.members(d, path, display)
        subs = []
        for i, sd in enumerate(v.list(d.get("subsections", _MISSING), f"{path}.subsections")):
            sp = f"{path}.subsections[{i}]"
            if v.obj(sd, sp, ("name", "id", "since", "doc") + _POS) is None:
                continue
            self.member_spans[sp] = v.position(sd, sp, display)
            sn = v.name(sd.get("name", _MISSING), f"{sp}.name")
            v.int(sd.get("id", _MISSING), f"{sp}.id", null=True)
            since = v.int(sd.get("since", _MISSING), f"{sp}.since", null=True)
            sdoc = v.text(sd.get("doc", _MISSING), f"{sp}.doc")
            if _MISSING in (sn, since, sdoc):
                continue
            anns = [] if since is None else [
                s.Annotation(self.name("since", f"{sp}.since"), [self.lit(since, f"{sp}.since")], True,
                             self.sp(f"{sp}.since"))]
            subs.append(s.SubsectionDecl(self.name(sn, f"{sp}.name"), anns, self.sp(sp), sdoc))
        for i, ld in enumerate(v.list(d.get("layouts", _MISSING), f"{path}.layouts")):
            lp = f"{path}.layouts[{i}]"
            if v.obj(ld, lp, ("version", "fields", "size")) is None:
                continue
            v.int(ld.get("version", _MISSING), f"{lp}.version")
            for j, f in enumerate(v.list(ld.get("fields", _MISSING), f"{lp}.fields")):
                v.name(f, f"{lp}.fields[{j}]")
            v.int(ld.get("size", _MISSING), f"{lp}.size", 0, null=True)
        return s.StateDecl(nm, props, members, subs, self.sp(path), doc)

    # members

    def members(self, d: dict, path: str, display: str) -> list:
        out = []
        for i, md in enumerate(self.v.list(d.get("members", _MISSING), f"{path}.members")):
            mp = f"{path}.members[{i}]"
            node = self.bits(md, mp, display) if isinstance(md, dict) and "bits" in md \
                else self.field(md, mp, display)
            if node is not None:
                out.append(node)
        return out

    def bits(self, d: dict, path: str, display: str) -> s.BitsDecl | None:
        v = self.v
        v.obj(d, path, ("bits", "fields", "doc") + _POS)
        self.member_spans[path] = v.position(d, path, display)
        base = v.name(d.get("bits", _MISSING), f"{path}.bits")
        doc = v.text(d.get("doc", _MISSING), f"{path}.doc")
        members = []
        for i, b in enumerate(v.list(d.get("fields", _MISSING), f"{path}.fields")):
            bp = f"{path}.fields[{i}]"
            if v.obj(b, bp, ("name", "width", "offset", "c_name", "doc") + _POS) is None:
                continue
            self.member_spans[bp] = v.position(b, bp, display)
            bn = v.name(b.get("name", _MISSING), f"{bp}.name")
            width = v.int(b.get("width", _MISSING), f"{bp}.width")
            v.int(b.get("offset", _MISSING), f"{bp}.offset")
            v.name(b.get("c_name", _MISSING), f"{bp}.c_name")
            bdoc = v.text(b.get("doc", _MISSING), f"{bp}.doc")
            if _MISSING in (bn, width, bdoc):
                continue
            members.append(s.BitsMember(self.name(bn, f"{bp}.name"), self.lit(width, f"{bp}.width"),
                                        self.sp(bp), bdoc))
        if _MISSING in (base, doc):
            return None
        return s.BitsDecl(self.name(base, f"{path}.bits"), members, self.sp(path), doc)

    _FIELD_KEYS = ("name", "c_name", "type", "pointer", "shape", "wire", "size", "fixed", "since",
                   "removed", "reason", "discard", "max", "range", "custom", "doc")

    def field(self, d, path: str, display: str) -> s.FieldDecl | None:
        v = self.v
        if v.obj(d, path, self._FIELD_KEYS + _POS) is None:
            return None
        self.member_spans[path] = v.position(d, path, display)
        name = v.name(d.get("name", _MISSING), f"{path}.name")
        c_name = v.name(d.get("c_name", _MISSING), f"{path}.c_name")
        pointer = v.bool(d.get("pointer", _MISSING), f"{path}.pointer")
        v.text(d.get("wire", _MISSING), f"{path}.wire", null=False, limit=MAX_EXPR_LENGTH)
        v.int(d.get("size", _MISSING), f"{path}.size", 0, null=True)
        fixed = v.int(d.get("fixed", _MISSING), f"{path}.fixed", null=True)
        doc = v.text(d.get("doc", _MISSING), f"{path}.doc")
        discard = v.bool(d.get("discard", _MISSING), f"{path}.discard")
        type_ = self.type(d.get("type", _MISSING), f"{path}.type", d.get("shape", _MISSING), f"{path}.shape",
                          pointer is True)
        anns = []

        def ann(key, args, has_parens=True):
            anns.append(s.Annotation(self.name(key, f"{path}.{key}"), args, has_parens,
                                     self.sp(f"{path}.{key}")))

        for key in ("since", "max"):
            value = v.int(d.get(key, _MISSING), f"{path}.{key}", null=True)
            if value not in (None, _MISSING):
                ann(key, [self.lit(value, f"{path}.{key}")])
        removed = v.int(d.get("removed", _MISSING), f"{path}.removed", null=True)
        reason = v.text(d.get("reason", _MISSING), f"{path}.reason")
        if removed not in (None, _MISSING) and reason not in (None, _MISSING):
            ann("removed", [self.lit(removed, f"{path}.removed"),
                            s.StringLit(reason, self.sp(f"{path}.reason"))])
        elif removed is not _MISSING and reason is not _MISSING and (removed is None) != (reason is None):
            v.error(f"{path}.reason", "expected a reason exactly when \"removed\" is set", "BAD_ANNOTATION")
        if discard is True:
            ann("discard", [], False)
        rng = d.get("range", _MISSING)
        if rng is not None and rng is not _MISSING:
            if not isinstance(rng, list) or len(rng) != 2:
                v.error(f"{path}.range", f"expected null or an array of two integers, found {_kind(rng)}")
            else:
                lo = v.int(rng[0], f"{path}.range[0]")
                hi = v.int(rng[1], f"{path}.range[1]")
                if _MISSING not in (lo, hi):
                    ann("range", [self.lit(lo, f"{path}.range[0]"), self.lit(hi, f"{path}.range[1]")])
        custom = d.get("custom", _MISSING)
        if custom is not None and v.obj(custom, f"{path}.custom", ("save", "restore")) is not None:
            save = v.name(custom.get("save", _MISSING), f"{path}.custom.save")
            restore = v.name(custom.get("restore", _MISSING), f"{path}.custom.restore")
            if _MISSING not in (save, restore):
                cp = f"{path}.custom"
                ann("custom", [s.KeywordArg(self.name("save", cp), s.NameRef(save, self.sp(f"{cp}.save")),
                                            self.sp(f"{cp}.save")),
                               s.KeywordArg(self.name("restore", cp),
                                            s.NameRef(restore, self.sp(f"{cp}.restore")),
                                            self.sp(f"{cp}.restore"))])
        if c_name not in (_MISSING, name):
            ann("c", [s.NameRef(c_name, self.sp(f"{path}.c_name"))])
        if _MISSING in (name, pointer, fixed, doc, discard) or type_ is None:
            return None
        fixed_expr = None if fixed is None else self.lit(fixed, f"{path}.fixed")
        return s.FieldDecl(self.name(name, f"{path}.name"), type_, fixed_expr, anns, self.sp(path), doc)

    _TYPES = {"int": ("name",), "bool": (), "char": ("length",), "bytes": (), "addr": ("area",),
              "folio": (), "enum": ("name",), "flags": ("name",), "struct": ("name",),
              "state": ("name", "id")}

    def type(self, t, path: str, shape, shape_path: str, pointer: bool) -> s.TypeExpr | None:
        v = self.v
        if v.obj(t, path, ("kind",), ("name", "length", "area", "id")) is None:
            return None
        kind = v.choice(t.get("kind", _MISSING), f"{path}.kind", tuple(self._TYPES))
        if kind is _MISSING:
            return None
        for key in ("name", "length", "area", "id"):
            if key in t and key not in self._TYPES[kind]:
                v.error(f"{path}.{key}", f"a type of kind \"{kind}\" has no \"{key}\"")
        dims: list = []
        arg = None
        if kind in ("int", "enum", "flags", "struct", "state"):
            name = v.name(t.get("name", _MISSING), f"{path}.name")
            if kind == "state":
                v.int(t.get("id", _MISSING), f"{path}.id")
            if name is _MISSING:
                return None
            tname = self.name(name, f"{path}.name")
        elif kind == "char":
            length = v.int(t.get("length", _MISSING), f"{path}.length")
            if length is _MISSING:
                return None
            tname = self.name("char", path)
            dims.append(self.lit(length, f"{path}.length"))
        elif kind == "addr":
            area = v.name(t.get("area", _MISSING), f"{path}.area")
            if area is _MISSING:
                return None
            tname, arg = self.name("addr", path), self.name(area, f"{path}.area")
        else:
            tname = self.name(kind, path)
        if shape is _MISSING:
            v.error(shape_path.rsplit(".", 1)[0], "missing key \"shape\"")
            return None
        if shape is not None:
            if v.obj(shape, shape_path, ("kind",), ("length", "field")) is None:
                return None
            sk = v.choice(shape.get("kind", _MISSING), f"{shape_path}.kind", ("fixed", "count", "rest"))
            want = {"fixed": ("length",), "count": ("field",), "rest": ()}.get(sk, ())
            for key in ("length", "field"):
                if key in shape and key not in want:
                    v.error(f"{shape_path}.{key}", f"a shape of kind \"{sk}\" has no \"{key}\"")
            if sk == "fixed":
                n = v.int(shape.get("length", _MISSING), f"{shape_path}.length")
                if n is _MISSING:
                    return None
                dims.append(self.lit(n, f"{shape_path}.length"))
            elif sk == "count":
                f = v.name(shape.get("field", _MISSING), f"{shape_path}.field")
                if f is _MISSING:
                    return None
                dims.append(s.NameRef(f, self.sp(f"{shape_path}.field")))
            elif sk == "rest":
                dims.append(s.Rest(self.sp(shape_path)))
            else:
                return None
        return s.TypeExpr(pointer, tname, arg, dims, self.sp(path))


# --- 4. what the snapshot stores must be what the model derives -----------------


def _agree(doc: dict, ss: m.SchemaSet, r: _Shape) -> None:
    from .snapshot import _layout_names, _layout_size, _member_json, _positions

    pos = _positions({})

    def members(stored: list, built, path: str) -> None:
        for i, (md, mb) in enumerate(zip(stored, built)):
            want = _member_json(mb, pos)
            for key in ("wire", "size", "c_name", "type"):
                if key in md and md[key] != want.get(key, md[key]):
                    r.error(f"{path}[{i}].{key}", f"expected {_show_value(want[key])} (what the members "
                            f"give), found {_show_value(md[key])}")
            if mb.is_bits:
                for j, (bd, bf) in enumerate(zip(md["fields"], mb.fields)):
                    for key, value in (("offset", bf.offset), ("c_name", bf.c_name)):
                        if bd[key] != value:
                            r.error(f"{path}[{i}].fields[{j}].{key}", f"expected {_show_value(value)} "
                                    f"(what the members give), found {_show_value(bd[key])}")

    for i, e in enumerate(doc["enums"]):
        built = ss.enums[e["name"]]
        for j, (vd, ev) in enumerate(zip(e["values"], built.values)):
            if vd["c_name"] != ev.c_name:
                r.error(f"$.enums[{i}].values[{j}].c_name",
                        f"expected \"{ev.c_name}\", found {_show(vd['c_name'])}")
    for i, sd in enumerate(doc["structs"]):
        st = ss.structs[sd["name"]]
        for key, value in (("size", st.size), ("c_name", st.c_name)):
            if sd[key] != value:
                r.error(f"$.structs[{i}].{key}", f"expected {_show_value(value)} (what the members give), "
                        f"found {_show_value(sd[key])}")
        members(sd["members"], st.members, f"$.structs[{i}].members")
    for i, sd in enumerate(doc["states"]):
        st = ss.states[sd["name"]]
        path = f"$.states[{i}]"
        parent = st.parent.name if st.parent else None
        for key, value in (("c_name", st.c_name), ("parent", parent)):
            if sd[key] != value:
                r.error(f"{path}.{key}", f"expected {_show_value(value)}, found {_show_value(sd[key])}")
        members(sd["members"], st.members, f"{path}.members")
        for j, (sub_d, sub) in enumerate(zip(sd["subsections"], st.subsections)):
            sid = sub.state.id if sub.state else None
            if sub_d["id"] != sid:
                r.error(f"{path}.subsections[{j}].id", f"expected {_show_value(sid)} (the id of state "
                        f"'{sub.name}'), found {_show_value(sub_d['id'])}")
        layouts = sd["layouts"]
        versions = list(st.versions)
        if [ld.get("version") for ld in layouts] != versions:
            r.error(f"{path}.layouts", f"expected one layout for each version {versions[0]} .. "
                    f"{versions[-1]}, in order")
            continue
        for j, (ld, v) in enumerate(zip(layouts, versions)):
            if ld["fields"] != _layout_names(st.layouts[v]):
                r.error(f"{path}.layouts[{j}].fields", f"expected the fields the members give for version "
                        f"{v}: {', '.join(_layout_names(st.layouts[v]))}")
            elif ld["size"] != _layout_size(st.layouts[v]):
                r.error(f"{path}.layouts[{j}].size", f"expected {_show_value(_layout_size(st.layouts[v]))}, "
                        f"found {_show_value(ld['size'])}")


def _show_value(value) -> str:
    if isinstance(value, str):
        return _show(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return _show_int(value)
    if value is None:
        return "null"
    return "a different " + type(value).__name__


def _place_spans(syn: _Syntax, doc: dict, ss: m.SchemaSet) -> None:
    """Give the model the source positions the snapshot recorded."""
    spans, ms = syn.spans, syn.member_spans
    for (kind, name), span in spans.items():
        item = {"const": ss.consts, "enum": ss.enums, "struct": ss.structs, "state": ss.states,
                "retired": ss.retired}[kind].get(name)
        if item is not None:
            item.span = span

    def members(stored_path: str, built) -> None:
        for i, mb in enumerate(built):
            p = f"{stored_path}[{i}]"
            mb.span = ms.get(p) or mb.span
            if mb.is_bits:
                for j, bf in enumerate(mb.fields):
                    bf.span = ms.get(f"{p}.fields[{j}]") or bf.span
            else:
                mb.since_span = mb.removed_span = mb.span

    for i, e in enumerate(doc["enums"]):
        for j, ev in enumerate(ss.enums[e["name"]].values):
            ev.span = ms.get(f"$.enums[{i}].values[{j}]") or ev.span
    for i, sd in enumerate(doc["structs"]):
        members(f"$.structs[{i}].members", ss.structs[sd["name"]].members)
    for i, sd in enumerate(doc["states"]):
        st = ss.states[sd["name"]]
        members(f"$.states[{i}].members", st.members)
        for j, sub in enumerate(st.subsections):
            sub.span = ms.get(f"$.states[{i}].subsections[{j}]") or sub.span
        for key, attr in (("id_position", "id_span"), ("version_position", "version_span"),
                          ("min_version_position", "min_version_span")):
            pos = sd.get(key)
            setattr(st, attr, None if pos is None else Span(pos["file"], pos["line"], pos["column"]))


# --- the driver ----------------------------------------------------------------


def read(text: str, origin: str, doc: dict) -> m.SchemaSet:
    """The model of snapshot ``doc`` (parsed from ``text``); ``SchemaError`` with
    every problem, positioned in ``text``, when it breaks a rule."""
    where = _JsonText(origin, text)
    shape = _Shape()
    syn = _Syntax(doc, shape)
    try:
        shape.obj(doc, "$", ("format", "format_version", "files", "constants", "enums", "structs",
                             "states", "retired"))
        sources = syn.run()
    except _Stop:
        pass
    if shape.errors:
        raise _error(shape, where, syn)
    report = Reporter()
    _find_cycles(sources, {src.real: src for src in sources}, report)
    _import_depth(sources, report)
    if report.has_errors:
        raise _mapped(report.diagnostics, syn, where)
    try:
        ss = build(sources, SourceMap())
    except SchemaError as err:
        raise _mapped([d for d in err.diagnostics if d.severity == "error"], syn, where) from None
    _agree(doc, ss, shape)
    if shape.errors:
        raise _error(shape, where, syn)
    _place_spans(syn, doc, ss)
    ss.warnings = []
    ss.origin = origin
    return ss


def _import_depth(sources: list[SourceFile], report: Reporter) -> None:
    """The loader's MAX_IMPORT_DEPTH: no chain of imports longer than that (no cycles here)."""
    by_real = {src.real: src for src in sources}
    depth: dict = {}
    for root in sources:
        if root.real in depth:
            continue
        stack = [(root, 0)]
        while stack:
            src, i = stack.pop()
            if i < len(src.imports):
                stack.append((src, i + 1))
                child = by_real[src.imports[i]]
                if child.real not in depth:
                    stack.append((child, 0))
                continue
            depth[src.real] = 1 + max((depth.get(c, 0) for c in src.imports), default=0)
            if depth[src.real] > MAX_IMPORT_DEPTH + 1 and src.import_spans:
                report.error("IMPORT_DEPTH", f"imports nest deeper than {MAX_IMPORT_DEPTH} files",
                             src.import_spans[0])
                return


def _error(shape: _Shape, where: _JsonText, syn: _Syntax) -> SchemaError:
    diags = sorted((Diagnostic(code, f"{path}: {message}", where.span(path))
                    for path, code, message in shape.errors), key=lambda d: (d.span.line, d.span.column))
    if shape.dropped:
        diags.append(Diagnostic(CODE, f"{shape.dropped} more problem(s) not shown", Span(where.origin, 1, 1)))
    return SchemaError(diags, where)


def _mapped(diags, syn: _Syntax, where: _JsonText) -> SchemaError:
    """The front end's diagnostics, moved from placeholder spans to the JSON text."""
    def place(span: Span | None):
        if span is None or span.file != _PLACE:
            return span, None
        path = syn.paths[span.line - 1]
        return where.span(path), path

    def note(text: str) -> str:
        return _PLACE_RE.sub(lambda mt: str(where.span(syn.paths[int(mt[1]) - 1])), text)

    out = []
    for d in diags[:MAX_ERRORS]:
        span, path = place(d.span)
        message = f"{path}: {d.message}" if path else d.message
        out.append(Diagnostic(d.code, note(message), span, d.severity, tuple(note(n) for n in d.notes),
                              note(d.help) if d.help else None))
    return SchemaError(out, where)
