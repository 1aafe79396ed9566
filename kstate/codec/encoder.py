"""The encoder: the decode document (docs/cli.md's JSON shape) back to a stream.

Bytes are built with the construct records of ``records.py`` (magic, entry
headers, EOF, every integer).  Validation is complete before anything is
returned: a missing or extra field, a value that does not fit its type, an
unknown state, a count that disagrees with its array all raise
``EncodeError`` naming the JSON path (``entries[0].fields.folios[3].pfn``).
"""

from __future__ import annotations

import reprlib

from ..errors import KstateError
from ..suggest import did_you_mean, nearest
from . import limits as _limits
from .limits import Limits
from .packer import pack_stream
from .views import ArrayView
from .records import INT_CODES, SECTION, SUBSECTION, eof, header, int_packer, magic

ENTRY_KEYS = {"section", "state", "state_id", "version", "instance_id", "offset", "size", "fields",
              "raw", "partial", "subsections"}
NESTED_KEYS = {"state", "state_id", "version", "offset", "size", "fields", "raw", "partial"}
PARTIAL_ALONE = ("unexpected without 'raw' ('partial' is what a lenient decode read before an error, "
                 "beside the raw bytes that are written)")


class EncodeError(KstateError):
    """Bad content in a document to encode; names the JSON path.  Exit code 1.
    ``help`` is the fix when kstate knows one (``did you mean 'size'?``)."""

    exit_code = 1

    def __init__(self, path: str, message: str, help: str | None = None):
        self.path = path
        super().__init__(f"{path}: {message}" if path else message, help=help)


def _unknown(path: str, message: str, word, known) -> EncodeError:
    """An EncodeError for a name the schema set does not know, with the nearest known one."""
    return EncodeError(path, message, help=did_you_mean(word, sorted(known)) if isinstance(word, str) else None)


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlong = 2, 40, 40, 40
_REPR.maxlist = _REPR.maxdict = _REPR.maxtuple = _REPR.maxset = 4


def _show(v) -> str:
    """A short repr of any input value for a message: bounded length, no recursion,
    no huge-int conversion (``int`` -> ``str`` is quadratic and limited)."""
    if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > 128:
        return f"<a {v.bit_length()}-bit integer>"
    try:
        return _REPR.repr(v)
    except Exception:  # noqa: BLE001 - a user object with a broken __repr__
        return f"<{type(v).__name__}>"


def _name(k) -> str:
    """A key as it goes into a path: the string itself (cut when very long), else a short repr."""
    if isinstance(k, str):
        return k if len(k) <= 80 else k[:77] + "..."
    return _show(k)


def _key(keys) -> str:
    """The first (in a stable order) of some unexpected keys, for a path."""
    return _name(min(keys, key=lambda k: (not isinstance(k, str), _name(k))))


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _int_range(name: str) -> tuple[int, int]:
    width = INT_CODES[name][1] * 8
    if name.startswith("i"):
        return -(1 << (width - 1)), (1 << (width - 1)) - 1
    return 0, (1 << width) - 1


def _hex(value, path: str, length: int | None = None) -> bytes:
    if not isinstance(value, str):
        raise EncodeError(path, f"expected a hex string, found {type(value).__name__}")
    try:
        data = bytes.fromhex(value)
    except ValueError:
        raise EncodeError(path, f"expected a hex string, found {_show(value[:40])}") from None
    if length is not None and len(data) != length:
        raise EncodeError(path, f"expected {length} byte(s) of hex, found {len(data)}")
    return data


def _hex_len(value: str) -> int:
    """Bytes a hex string holds (``bytes.fromhex`` allows spaces), for a count; a bad
    string's error comes when its field is encoded."""
    try:
        return len(bytes.fromhex(value))
    except ValueError:
        return len(value) // 2


class Encoder:
    def __init__(self, codecs, byteorder: str, limits: Limits | None = None):
        self.c = codecs
        self.bo = byteorder
        self.hdr = header(byteorder)
        self.limits = limits or Limits()
        self._least: dict = {}  # (state, version) -> least payload size
        self.depth = 0  # nested states being encoded
        self._depths: dict | None = None

    # --- stream ------------------------------------------------------------------

    def stream(self, doc) -> bytes:
        if not isinstance(doc, dict):
            raise EncodeError("", f"expected a JSON object with 'entries', found {type(doc).__name__}")
        entries = doc.get("entries")
        if not isinstance(entries, list):
            near = None if "entries" in doc else nearest("entries", [k for k in doc if isinstance(k, str)])
            raise EncodeError("entries", "expected a list of entries",
                              help=f"rename '{near}' to 'entries'" if near else None)
        keys = {"byteorder", "size", "entries", "diagnostics"}
        extra = set(doc) - keys
        if extra:
            raise _unknown(_key(extra), "unexpected key in the document", _key(extra), keys - set(doc))
        count = len(entries) + sum(len(e["subsections"]) for e in entries
                                   if isinstance(e, dict) and isinstance(e.get("subsections"), list))
        if count > self.limits.entries:
            raise EncodeError("entries", f"expected at most {self.limits.entries} entries "
                              f"(sections and subsections), found {count}")
        out = bytearray(magic(self.bo).build(None))
        for i, e in enumerate(entries):
            out += self.entry(e, f"entries[{i}]", SECTION, None)
            if len(out) > self.limits.stream_size:
                raise EncodeError(f"entries[{i}]", f"expected a stream of at most "
                                  f"{self.limits.stream_size} bytes, found more")
        out += eof(self.bo).build(None)
        return bytes(out)

    def _state_of(self, e: dict, path: str, raw: bool):
        name = e.get("state")
        sid = e.get("state_id")
        if sid is not None and not _is_int(sid):
            raise EncodeError(f"{path}.state_id", "expected an integer")
        if name is None:
            if sid is None:
                raise EncodeError(f"{path}.state", "missing: name the state")
            name = self.c.by_id.get(sid) or (self.c.retired_by_id.get(sid) if raw else None)
            if name is None and not raw:
                raise EncodeError(f"{path}.state_id", f"unknown state_id {_show(sid)}")
            return name, sid
        if not isinstance(name, str):
            raise EncodeError(f"{path}.state", "expected a state name")
        if name in self.c.states:
            real = self.c.states[name]["id"]
        elif raw and name in self.c.desc["retired"]:
            real = self.c.desc["retired"][name]
        else:
            raise _unknown(f"{path}.state", f"unknown state '{name}'", name,
                           [*self.c.states, *(self.c.desc["retired"] if raw else ())])
        if sid is not None and sid != real:
            raise EncodeError(f"{path}.state_id", f"state '{name}' has id {real}, found {_show(sid)}")
        return name, real

    def entry(self, e, path: str, stype: int, parent) -> bytes:
        if not isinstance(e, dict):
            raise EncodeError(path, "expected an entry object")
        extra = set(e) - ENTRY_KEYS
        if extra:
            raise _unknown(f"{path}.{_key(extra)}", "unexpected key in an entry", _key(extra), ENTRY_KEYS - set(e))
        want = "section" if stype == SECTION else "subsection"
        if "section" in e and e["section"] != want:
            raise EncodeError(f"{path}.section", f"expected '{want}', found {_show(e['section'])}")
        raw = "raw" in e
        if raw and "fields" in e:
            raise EncodeError(path, "expected either 'fields' or 'raw', found both")
        if "partial" in e and not raw:
            raise EncodeError(f"{path}.partial", PARTIAL_ALONE)
        name, sid = self._state_of(e, path, raw)
        sdesc = self.c.states.get(name) if name else None
        version = e.get("version", sdesc["version"] if sdesc else None)
        if not _is_int(version):
            raise EncodeError(f"{path}.version", "expected an integer version")
        inst = e.get("instance_id", parent[1] if parent else 0)
        if not _is_int(inst) or not -(1 << 31) <= inst < (1 << 31):
            raise EncodeError(f"{path}.instance_id", "expected an i32 integer")
        if parent is not None:
            pname, pinst, pversion = parent
            subs = [s for s, since in self.c.states[pname]["subsections"] if (since or 0) <= pversion]
            if name not in subs:
                raise _unknown(f"{path}.state", f"'{name}' is not a subsection of '{pname}' "
                               f"version {pversion} ({', '.join(subs) or 'none'})", name, subs)
            if inst != pinst:
                raise EncodeError(f"{path}.instance_id", f"expected the parent's instance_id {pinst}")
        if raw:
            payload = _hex(e["raw"], f"{path}.raw")
        else:
            self._check_version(name, sdesc, version, f"{path}.version")
            if "fields" not in e:
                raise EncodeError(f"{path}.fields", "missing")
            payload = self.fields(name, version, e["fields"], f"{path}.fields", stype)
        out = self._header(stype, sid, version, inst, len(payload), path) + payload
        subs = e.get("subsections", [])
        if subs:
            if stype != SECTION or not sdesc or raw:
                if stype != SECTION or not isinstance(subs, list):
                    raise EncodeError(f"{path}.subsections", "unexpected here")
            if not isinstance(subs, list):
                raise EncodeError(f"{path}.subsections", "expected a list")
            for j, s in enumerate(subs):
                spath = f"{path}.subsections[{j}]"
                if not sdesc or raw:
                    if not isinstance(s, dict) or "raw" not in s:
                        raise EncodeError(spath, "the parent is raw: expected a raw subsection")
                    sname, ssid = self._state_of(s, spath, True)
                    sv = s.get("version")
                    if not _is_int(sv):
                        raise EncodeError(f"{spath}.version", "expected an integer version")
                    data = _hex(s["raw"], f"{spath}.raw")
                    out += self._header(SUBSECTION, ssid, sv, s.get("instance_id", inst), len(data), spath) + data
                else:
                    out += self.entry(s, spath, SUBSECTION, (name, inst, version))
        return out

    def _header(self, stype, sid, version, inst, size, path) -> bytes:
        for key, v in (("version", version), ("instance_id", inst), ("state_id", sid)):
            if not _is_int(v) or not -(1 << 31) <= v < (1 << 31):
                raise EncodeError(f"{path}.{key}", "expected an i32 integer")
        if size >= 1 << 31:
            raise EncodeError(path, f"payload of {size} bytes does not fit an i32 size")
        return self.hdr.build(dict(section_type=stype, state_id=sid, version_id=version,
                                   instance_id=inst, size=size))

    def _check_version(self, name, sdesc, version, path) -> None:
        if not sdesc["min_version"] <= version <= sdesc["version"]:
            raise EncodeError(path, f"expected a version of '{name}' in [{sdesc['min_version']}, "
                              f"{sdesc['version']}], found {_show(version)}")

    # --- payloads ----------------------------------------------------------------

    def fields(self, state: str, version: int, obj, path: str, stype: int) -> bytes:
        layout = self.c.states[state]["layouts"][version]
        if self._depths is None:
            self._depths = _limits.struct_depths(self.c.structs)
        depth = _limits.layout_depth(layout, self._depths)
        if depth > _limits.MAX_TYPE_DEPTH:
            raise EncodeError(path, f"expected plain structs nested at most {_limits.MAX_TYPE_DEPTH} "
                              f"deep, found {min(depth, 1 << 20)} levels in '{state}' version {version}")
        least = self._least.get((state, version))
        if least is None:
            least = self._least[state, version] = _limits.fixed_size(layout, self.c.structs, self.c.enums)
        if least > self.limits.stream_size:  # checked before anything of that size is built
            raise EncodeError(path, f"expected a stream of at most {self.limits.stream_size} bytes, but "
                              f"'{state}' version {version} takes at least {least} bytes")
        return self.members(layout, obj, path, stype, counted=True)

    def members(self, layout, obj, path: str, stype: int, counted: bool = False) -> bytes:
        if not isinstance(obj, dict):
            raise EncodeError(path, f"expected an object of fields, found {type(obj).__name__}")
        names = []
        for mb in layout:
            names += [f[0] for f in mb["fields"]] if "bits" in mb else [mb["name"]]
        extra = [k for k in obj if k not in names]
        if extra:
            raise _unknown(f"{path}.{_name(extra[0])}", "unexpected field (not in this layout)", extra[0],
                           [n for n in names if n not in obj])
        counts: dict = {}
        if counted:
            for mb in layout:
                shape = mb.get("shape")
                if shape and shape[0] == "count" and mb["name"] in obj:
                    val = obj[mb["name"]]
                    if isinstance(val, ArrayView):
                        val = val.tolist()
                    n = (_hex_len(val) if isinstance(val, str) else len(val)) if isinstance(val, (list, str)) else None
                    if n is None:
                        raise EncodeError(f"{path}.{mb['name']}", "expected a list" if mb["type"][0] != "bytes"
                                          else "expected a hex string")
                    if shape[1] in counts and counts[shape[1]][0] != n:
                        raise EncodeError(f"{path}.{mb['name']}", f"has {n} element(s) but "
                                          f"'{counts[shape[1]][1]}' has {counts[shape[1]][0]}; they share "
                                          f"the count '{shape[1]}'")
                    counts[shape[1]] = (n, mb["name"])
        out = bytearray()
        for mb in layout:
            if "bits" in mb:
                out += self.bits(mb, obj, path, counts)
                continue
            name = mb["name"]
            fpath = f"{path}.{name}"
            if name not in obj:
                if "fixed" in mb:
                    value = mb["fixed"]
                elif name in counts:
                    value = counts[name][0]
                else:
                    raise EncodeError(fpath, "missing field")
            else:
                value = obj[name]
                if name in counts and value != counts[name][0]:
                    raise EncodeError(fpath, f"count {_show(value)} disagrees with '{counts[name][1]}', "
                                      f"which has {counts[name][0]} element(s)")
            out += self.field(mb, value, fpath, stype)
        return bytes(out)

    def bits(self, mb: dict, obj: dict, path: str, counts: dict) -> bytes:
        code, size = INT_CODES[mb["bits"]]
        nbits = size * 8
        word = 0
        for name, width, offset in mb["fields"]:
            fpath = f"{path}.{name}"
            if name in counts:
                v = obj.get(name, counts[name][0])
                if v != counts[name][0]:
                    raise EncodeError(fpath, f"count {_show(v)} disagrees with '{counts[name][1]}', "
                                      f"which has {counts[name][0]} element(s)")
            elif name not in obj:
                raise EncodeError(fpath, "missing field")
            else:
                v = obj[name]
            if not _is_int(v) or not 0 <= v < (1 << width):
                raise EncodeError(fpath, f"expected an integer in [0, {(1 << width) - 1}] "
                                  f"({width}-bit field), found {_show(v)}")
            shift = offset if self.bo == "little" else nbits - offset - width
            word |= v << shift
        if mb["bits"].startswith("i") and word >= 1 << (nbits - 1):
            word -= 1 << nbits  # the same bits, as the signed integer the group is
        return int_packer(mb["bits"], self.bo)(word)

    def field(self, mb: dict, value, path: str, stype: int) -> bytes:
        typ, shape = mb["type"], mb.get("shape")
        if shape is None:
            if "fixed" in mb:
                data = self.value(typ, value, path, stype)
                if data != self._fixed_bytes(typ, mb["fixed"]):
                    raise EncodeError(path, f"expected the fixed value {mb['fixed']:#x}, found {_show(value)}")
                return data
            if "range" in mb and _is_int(value) and not mb["range"][0] <= value <= mb["range"][1]:
                raise EncodeError(path, f"expected a value in @range({mb['range'][0]}, "
                                  f"{mb['range'][1]}), found {_show(value)}")
            if "max" in mb and _is_int(value) and value > mb["max"]:
                raise EncodeError(path, f"expected a count <= @max({mb['max']}), found {_show(value)}")
            return self.value(typ, value, path, stype)
        if typ[0] == "bytes":
            data = _hex(value, path, shape[1] if shape[0] == "fixed" else None)
            if "max" in mb and len(data) > mb["max"]:
                raise EncodeError(path, f"expected at most @max({mb['max']}) bytes, found {len(data)}")
            return data
        if isinstance(value, ArrayView):  # decode(..., arrays="memoryview")
            value = value.tolist()
        if not isinstance(value, list):
            raise EncodeError(path, f"expected a list, found {type(value).__name__}")
        if shape[0] == "fixed" and len(value) != shape[1]:
            raise EncodeError(path, f"expected {shape[1]} element(s), found {len(value)}")
        if "max" in mb and len(value) > mb["max"]:
            raise EncodeError(path, f"expected at most @max({mb['max']}) elements, found {len(value)}")
        return b"".join(self.value(typ, v, f"{path}[{i}]", stype) for i, v in enumerate(value))

    def _fixed_bytes(self, typ: tuple, fixed: int) -> bytes:
        kind = typ[0]
        if kind == "bool":
            return bytes([fixed])
        iname = typ[1] if kind == "int" else self.c.enums[typ[1]]["base"] if kind == "enum" else "u64"
        return int_packer(iname, self.bo)(fixed)

    def value(self, typ: tuple, v, path: str, stype: int) -> bytes:
        kind = typ[0]
        if kind in ("int", "addr", "folio"):
            iname = typ[1] if kind == "int" else "u64"
            lo, hi = _int_range(iname)
            if not _is_int(v) or not lo <= v <= hi:
                raise EncodeError(path, f"expected an integer in [{lo}, {hi}] ({iname}), found {_show(v)}")
            return int_packer(iname, self.bo)(v)
        if kind == "bool":
            if not isinstance(v, bool):
                raise EncodeError(path, f"expected true or false, found {_show(v)}")
            return b"\x01" if v else b"\x00"
        if kind == "char":
            n = typ[1]
            if isinstance(v, dict) and set(v) == {"bytes"}:
                return _hex(v["bytes"], f"{path}.bytes", n)
            if not isinstance(v, str):
                raise EncodeError(path, f"expected a string (or {{\"bytes\": hex}}), found {_show(v)}")
            data = v.encode("utf-8", "surrogatepass")
            if b"\0" in data or len(data) > n:
                raise EncodeError(path, f"expected a string of at most {n} UTF-8 bytes without NUL, "
                                  f"found {len(data)} byte(s)")
            return data + b"\0" * (n - len(data))
        if kind == "bytes":
            return _hex(v, path, 1)
        if kind == "enum":
            return self.enum(typ[1], v, path)
        if kind == "struct":
            return self.members(self.c.structs[typ[1]], v, path, stype)
        if kind == "state":
            return self.nested(typ[1], v, path, stype)
        raise EncodeError(path, f"unknown type {typ!r}")

    def enum(self, name: str, v, path: str) -> bytes:
        e = self.c.enums[name]
        lo, hi = _int_range(e["base"])
        names = dict(e["values"])
        if e["kind"] == "flags":
            if _is_int(v):
                word = v
            elif isinstance(v, list):
                word = 0
                for i, item in enumerate(v):
                    if isinstance(item, str):
                        if item not in names:
                            raise _unknown(f"{path}[{i}]", f"unknown flag '{item}' of {name} "
                                           f"({', '.join(names)})", item, names)
                        word |= names[item]
                    elif _is_int(item) and item >= 0:
                        word |= item
                    else:
                        raise EncodeError(f"{path}[{i}]", f"expected a flag name or an integer, found {_show(item)}")
            else:
                raise EncodeError(path, f"expected a list of flag names, found {_show(v)}")
        elif isinstance(v, str):
            if v not in names:
                raise _unknown(path, f"unknown name '{v}' of enum {name} ({', '.join(names)})", v, names)
            word = names[v]
        elif _is_int(v):
            word = v
        else:
            raise EncodeError(path, f"expected a name of enum {name} or an integer, found {_show(v)}")
        if not lo <= word <= hi:
            raise EncodeError(path, f"expected a value that fits {e['base']}, found {_show(word)}")
        return int_packer(e["base"], self.bo)(word)

    def nested(self, state: str, v, path: str, stype: int) -> bytes:
        if not isinstance(v, dict):
            raise EncodeError(path, f"expected a nested state object, found {type(v).__name__}")
        extra = set(v) - NESTED_KEYS
        if extra:
            raise _unknown(f"{path}.{_key(extra)}", "unexpected key in a nested state", _key(extra),
                           NESTED_KEYS - set(v))
        sdesc = self.c.states[state]
        if "state" in v and v["state"] != state:
            raise EncodeError(f"{path}.state", f"expected '{state}', found {_show(v['state'])}")
        if "state_id" in v and v["state_id"] != sdesc["id"]:
            raise EncodeError(f"{path}.state_id", f"expected {sdesc['id']}, found {_show(v['state_id'])}")
        version = v.get("version", sdesc["version"])
        if not _is_int(version):
            raise EncodeError(f"{path}.version", "expected an integer version")
        if "raw" in v:
            payload = _hex(v["raw"], f"{path}.raw")
        elif "partial" in v:
            raise EncodeError(f"{path}.partial", PARTIAL_ALONE)
        else:
            self._check_version(state, sdesc, version, f"{path}.version")
            if "fields" not in v:
                raise EncodeError(f"{path}.fields", "missing")
            if self.depth >= self.limits.nesting_depth:  # as the decoder: deeper ones only raw
                raise EncodeError(path, f"expected nested states with fields at most "
                                  f"{self.limits.nesting_depth} levels deep, found more")
            self.depth += 1
            try:
                payload = self.fields(state, version, v["fields"], f"{path}.fields", stype)
            finally:
                self.depth -= 1
        return self._header(stype, sdesc["id"], version, 0, len(payload), path) + payload


def encode_doc(codecs, doc, byteorder: str | None = None, limits: Limits | None = None) -> bytes:
    bo = byteorder or (doc.get("byteorder") if isinstance(doc, dict) else None) or "little"
    if not isinstance(bo, str) or bo not in ("little", "big"):
        raise EncodeError("byteorder", f"expected 'little' or 'big', found {_show(bo)}")
    limits = limits or Limits()
    blob = pack_stream(codecs, doc, bo, limits)  # the generated encoders: the common case
    if blob is not None:
        return blob
    try:  # something is wrong or unusual: this walk names it (or encodes the unusual document)
        return Encoder(codecs, bo, limits).stream(doc)
    except RecursionError:
        raise EncodeError("", "the document nests too deeply") from None
