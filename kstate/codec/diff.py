"""The semantic difference of two decode documents (``kstate diff``).

Entries are matched by (state, instance_id), subsections by their state
under the matched section, fields by name (so a dump written at version 2
compares with one written at version 3: a field on the wire at one version
only is reported as being on one side only), struct members by name, arrays
element by element.  Values are compared as decoded, so the byte order and
the version of the layout do not matter, only what the kernel preserved.

``compare(a, b, max_elements)`` returns a list of ``Difference`` dicts::

    {"kind": "changed" | "only_a" | "only_b" | "length" | "elided" | "version" | "decode_error",
     "entry": "memfd[7]", "path": "memfd[7].folios[3].index", "a": 3, "b": 4, ...}

``a``/``b`` hold the values as in the decode JSON (absent on the side that
has none).  ``length`` is an array of different lengths, ``elided`` the
differing elements of one array past ``max_elements`` (``count`` of them,
``first`` the first such index), ``version`` an entry written at another
version (information, not a difference), ``decode_error`` an error
diagnostic of one side (``side``, ``diagnostic``).
"""

from __future__ import annotations

COUNTED = ("changed", "only_a", "only_b", "length", "decode_error")  # what makes two dumps differ


def _name(e: dict) -> str:
    return e.get("state") or f"state {e['state_id']}"


def _entries(doc: dict) -> dict:
    """{(state, instance): entry}, in stream order; subsections under ``"subsections"``."""
    out: dict = {}
    for e in doc["entries"]:
        out.setdefault((_name(e), e["instance_id"]), e)
    return out


class _Differ:
    def __init__(self, max_elements: int | None):
        self.max = max_elements
        self.out: list[dict] = []
        self.entry = ""
        self.matched = 0  # entries (sections and subsections) on both sides

    def add(self, kind: str, path: str, **kw) -> None:
        self.out.append({"kind": kind, "entry": self.entry, "path": path, **kw})

    def entries(self, ea: dict, eb: dict) -> None:
        for key, a in ea.items():
            path = f"{key[0]}[{key[1]}]"
            self.entry = path
            if key not in eb:
                self.add("only_a", path, a=_summary(a))
                continue
            self.one(a, eb[key], path)
        for key, b in eb.items():
            if key not in ea:
                path = f"{key[0]}[{key[1]}]"
                self.entry = path
                self.add("only_b", path, b=_summary(b))

    def one(self, a: dict, b: dict, path: str, entry: bool = True) -> None:
        self.matched += entry
        if a["version"] != b["version"]:
            self.add("version", path, a=a["version"], b=b["version"])
        if "fields" in a and "fields" in b:
            self.fields(a["fields"], b["fields"], path)
        elif a.get("raw") != b.get("raw") or ("fields" in a) != ("fields" in b):
            self.add("changed", f"{path} payload", a=a.get("raw", "(decoded)"), b=b.get("raw", "(decoded)"))
        subs_a = {_name(s): s for s in a.get("subsections", [])}
        subs_b = {_name(s): s for s in b.get("subsections", [])}
        for name, s in subs_a.items():
            spath = f"{path}/{name}"
            if name in subs_b:
                self.one(s, subs_b[name], spath)
            else:
                self.add("only_a", spath, a=_summary(s))
        for name, s in subs_b.items():
            if name not in subs_a:
                self.add("only_b", f"{path}/{name}", b=_summary(s))

    def fields(self, fa: dict, fb: dict, path: str) -> None:
        for name, va in fa.items():
            p = f"{path}.{name}"
            if name not in fb:
                self.add("only_a", p, a=va)
            else:
                self.value(va, fb[name], p)
        for name, vb in fb.items():
            if name not in fa:
                self.add("only_b", f"{path}.{name}", b=vb)

    def value(self, va, vb, path: str) -> None:
        if isinstance(va, dict) and isinstance(vb, dict):
            if "fields" in va or "fields" in vb or "raw" in va or "raw" in vb:  # nested states
                self.one(va, vb, path, entry=False)
                return
            if "bytes" in va or "bytes" in vb:
                if va != vb:
                    self.add("changed", path, a=va, b=vb)
                return
            self.fields(va, vb, path)
            return
        if isinstance(va, list) and isinstance(vb, list) and not _is_flags(va, vb):
            self.array(va, vb, path)
            return
        if va != vb or type(va) is not type(vb):
            self.add("changed", path, a=va, b=vb)

    def array(self, la: list, lb: list, path: str) -> None:
        if len(la) != len(lb):
            self.add("length", path, a=len(la), b=len(lb))
        shown = 0
        elided, first = 0, None
        for i in range(max(len(la), len(lb))):
            if i < len(la) and i < len(lb):
                if la[i] == lb[i]:
                    continue
                if self.max is not None and shown >= self.max:
                    elided += 1
                    first = i if first is None else first
                    continue
                self.value(la[i], lb[i], f"{path}[{i}]")
            else:
                if self.max is not None and shown >= self.max:
                    elided += 1
                    first = i if first is None else first
                    continue
                if i < len(la):
                    self.add("only_a", f"{path}[{i}]", a=la[i])
                else:
                    self.add("only_b", f"{path}[{i}]", b=lb[i])
            shown += 1
        if elided:
            self.add("elided", path, count=elided, first=first)


def _is_flags(va: list, vb: list) -> bool:
    """Flags decode to a list of names (then an int); arrays of structs and ints never hold a str."""
    return any(isinstance(x, str) for x in (*va, *vb))


def _summary(e: dict) -> dict:
    """An entry only on one side: its header, not its values."""
    out = {k: e[k] for k in ("section", "state", "state_id", "version", "instance_id", "offset", "size") if k in e}
    return out


def compare(a: dict, b: dict, max_elements: int | None = 8) -> tuple[list[dict], int]:
    """(the differences, how many entries were on both sides)."""
    d = _Differ(max_elements)
    for side, doc in (("a", a), ("b", b)):
        for diag in doc["diagnostics"]:
            if diag["severity"] == "error":
                d.entry = ""
                d.add("decode_error", diag["path"], side=side, diagnostic=diag)
    d.entries(_entries(a), _entries(b))
    return d.out, d.matched


def summary(diffs: list[dict], entries: int) -> dict:
    counts = {k: 0 for k in ("changed", "only_a", "only_b", "length", "decode_error", "version")}
    elided = 0
    for x in diffs:
        if x["kind"] == "elided":
            elided += x["count"]
        else:
            counts[x["kind"]] += 1
    total = sum(counts[k] for k in COUNTED) + elided
    return {"differences": total, **counts, "elided": elided, "entries_compared": entries}
