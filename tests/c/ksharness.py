"""Test helpers for the C backend: random values, and a C harness program.

Values are kept in a *canonical* form (ints, bools, ``bytes`` for ``char[N]``
and ``bytes[...]``, lists, dicts; a nested state is the dict of its fields),
which converts to and from the decode JSON shape (docs/cli.md) and flattens to
``path=value`` lines.  The harness C program, generated from the model and
built against the generated headers, prints the same lines for what its
reader decoded, and fills C structs from the same values for its writer.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from hypothesis import strategies as hs

from kstate import model as m

# --- canonical values ----------------------------------------------------------


def _is_blob(f: m.Field) -> bool:
    return isinstance(f.type, m.BytesType) and not f.pointer


def _int_bounds(f: m.Field | None, it: m.IntType) -> tuple[int, int]:
    lo, hi = it.min, it.max
    if f is not None and f.range is not None:
        lo, hi = f.range
    return lo, hi


def _elem_strategy(t: m.ValueType, ss: m.SchemaSet):
    if isinstance(t, m.IntType):
        return hs.integers(t.min, t.max)
    if isinstance(t, m.EnumType):
        base = t.decl.base
        named = [v.value for v in t.decl.values]
        return hs.one_of(hs.sampled_from(named), hs.integers(base.min, base.max)) if named \
            else hs.integers(base.min, base.max)
    if isinstance(t, m.BoolType):
        return hs.booleans()
    if isinstance(t, m.CharType):
        text = hs.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", max_size=t.length).map(
            lambda s: s.encode().ljust(t.length, b"\0"))
        return hs.one_of(text, hs.binary(min_size=t.length, max_size=t.length))
    if isinstance(t, m.BytesType):
        return hs.integers(0, 255)
    if isinstance(t, (m.AddrType, m.FolioType)):
        return hs.integers(0, (1 << 64) - 1)
    if isinstance(t, m.StructType):
        return members_strategy(t.decl.members, None, ss)
    if isinstance(t, m.StateType):
        return members_strategy(t.decl.layouts[t.decl.version], t.decl, ss)
    raise TypeError(t)


def members_strategy(members, state: m.State | None, ss: m.SchemaSet, max_count: int = 3):
    """A strategy for the canonical values of ``members`` (one layout)."""

    @hs.composite
    def build(draw):
        out: dict = {}
        for mb in members:
            if mb.is_bits:
                for b in mb.fields:
                    out[b.name] = draw(hs.integers(0, (1 << b.width) - 1))
                continue
            f: m.Field = mb
            if f.fixed is not None:
                out[f.name] = bool(f.fixed) if isinstance(f.type, m.BoolType) else f.fixed
                continue
            if f.counts:
                it = f.type if isinstance(f.type, m.IntType) else f.type.decl.base
                hi = min(max_count, f.max if f.max is not None else max_count)
                for arr in f.counts:
                    af = state.field(arr)
                    if af is not None and af.max is not None:
                        hi = min(hi, af.max)
                out[f.name] = draw(hs.integers(0, max(0, hi)))
                continue
            if f.shape is None:
                it = f.type if isinstance(f.type, m.IntType) else None
                if it is not None and (f.range is not None or f.max is not None):
                    lo, hi = _int_bounds(f, it)
                    if f.max is not None:
                        hi = min(hi, f.max)
                    out[f.name] = draw(hs.integers(lo, hi))
                else:
                    out[f.name] = draw(_elem_strategy(f.type, ss))
                continue
            if isinstance(f.shape, m.Fixed):
                n = f.shape.length
            elif isinstance(f.shape, m.Counted):
                n = out[f.shape.count]
            else:
                n = draw(hs.integers(0, min(max_count, f.max if f.max is not None else max_count)))
            if _is_blob(f):
                out[f.name] = draw(hs.binary(min_size=n, max_size=n))
            else:
                out[f.name] = draw(hs.lists(_elem_strategy(f.type, ss), min_size=n, max_size=n))
        return out

    return build()


# --- canonical <-> decode JSON ---------------------------------------------------


def _char_doc(raw: bytes):
    head, sep, rest = raw.partition(b"\0")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return {"bytes": raw.hex()}
    if rest.strip(b"\0") or (sep and "\0" in text):
        return {"bytes": raw.hex()}
    return text


def _elem_to_doc(t: m.ValueType, v):
    if isinstance(t, m.EnumType):
        d = t.decl
        if d.kind == "enum":
            name = d.name_of(v)
            return name if name is not None else v
        names = [x.name for x in sorted(d.values, key=lambda x: x.value) if v & x.value == x.value]
        rest = v & ~d.known_mask
        return names + ([rest] if rest else [])
    if isinstance(t, m.CharType):
        return _char_doc(v)
    if isinstance(t, m.StructType):
        return fields_to_doc(t.decl.members, v)
    if isinstance(t, m.StateType):
        return {"state": t.decl.name, "fields": fields_to_doc(t.decl.layouts[t.decl.version], v)}
    return v


def fields_to_doc(members, values: dict) -> dict:
    out = {}
    for name, f in m.member_names(members):
        v = values[name]
        if isinstance(f, m.BitsField):
            out[name] = v
        elif _is_blob(f):
            out[name] = v.hex()
        elif f.shape is not None:
            out[name] = [_elem_to_doc(f.type, x) for x in v]
        else:
            out[name] = _elem_to_doc(f.type, v)
    return out


def _elem_from_doc(t: m.ValueType, v):
    if isinstance(t, m.EnumType):
        d = t.decl
        if d.kind == "enum":
            return d.by_name[v] if isinstance(v, str) else v
        total = 0
        for x in v:
            total |= d.by_name[x] if isinstance(x, str) else x
        return total
    if isinstance(t, m.CharType):
        if isinstance(v, dict):
            return bytes.fromhex(v["bytes"])
        return v.encode().ljust(t.length, b"\0")
    if isinstance(t, m.StructType):
        return fields_from_doc(t.decl.members, v)
    if isinstance(t, m.StateType):
        # the C reader fills a nested state's struct at whatever version it
        # was written; the harness dumps it with the current layout, so the
        # fields that version does not have are the zeros the C reader left
        d = t.decl
        got = fields_from_doc(d.layouts[v["version"]], v["fields"])
        return {name: got[name] if name in got else _zero(f)
                for name, f in m.member_names(d.layouts[d.version])}
    return v


def _zero_elem(t: m.ValueType):
    if isinstance(t, m.BoolType):
        return False
    if isinstance(t, m.CharType):
        return bytes(t.length)
    if isinstance(t, m.StructType):
        return {name: _zero(f) for name, f in m.member_names(t.decl.members)}
    if isinstance(t, m.StateType):
        return {name: _zero(f) for name, f in m.member_names(t.decl.layouts[t.decl.version])}
    return 0


def _zero(f):
    """The canonical value of a member the reader never wrote (a zeroed struct;
    None: a pointer left NULL, which the dump skips)."""
    if isinstance(f, m.BitsField):
        return 0
    if f.pointer and not isinstance(f.shape, (m.Counted, m.Rest)):
        return None if f.shape is None else [None] * f.shape.length
    if isinstance(f.shape, (m.Counted, m.Rest)):
        return b"" if _is_blob(f) else []
    if _is_blob(f):
        return bytes(f.shape.length)
    if isinstance(f.shape, m.Fixed):
        return [_zero_elem(f.type) for _ in range(f.shape.length)]
    return _zero_elem(f.type)


def fields_from_doc(members, doc: dict) -> dict:
    out = {}
    for name, f in m.member_names(members):
        v = doc[name]
        if isinstance(f, m.BitsField):
            out[name] = v
        elif _is_blob(f):
            out[name] = bytes.fromhex(v)
        elif f.shape is not None:
            out[name] = [_elem_from_doc(f.type, x) for x in v]
        else:
            out[name] = _elem_from_doc(f.type, v)
    return out


# --- flattening: the lines the harness prints -------------------------------------


def _flat_elem(t: m.ValueType, v, path: str, out: list[str]) -> None:
    if v is None:  # a NULL pointer: the dump skips it
        return
    if isinstance(t, m.BoolType):
        out.append(f"{path}={int(v)}")
    elif isinstance(t, m.CharType):
        out.append(f"{path}={v.hex()}")
    elif isinstance(t, m.StructType):
        flatten(t.decl.members, v, path + ".", out)
    elif isinstance(t, m.StateType):
        flatten(t.decl.layouts[t.decl.version], v, path + ".", out)
    else:
        out.append(f"{path}={v}")


def flatten(members, values: dict, prefix: str = "", out: list[str] | None = None) -> list[str]:
    out = [] if out is None else out
    for mb in members:
        if mb.is_bits:
            for b in mb.fields:
                out.append(f"{prefix}{b.name}={values[b.name]}")
            continue
        f: m.Field = mb
        v = values[f.name]
        path = prefix + f.name
        if isinstance(f.shape, m.Rest):
            out.append(f"{path}.len={len(v)}")
        if _is_blob(f):
            out.append(f"{path}={v.hex()}")
        elif f.shape is None:
            _flat_elem(f.type, v, path, out)
        else:
            for i, x in enumerate(v):
                _flat_elem(f.type, x, f"{path}[{i}]", out)
    return out


# --- streams: entries, the lines the harness prints, its writer's tokens ----------------


def owners(ss: m.SchemaSet) -> list[m.State]:
    return [st for st in ss.states.values() if st.parent is None]


def streams(ss: m.SchemaSet, any_version: bool):
    """(doc entries, expected harness lines): one entry of every top-level state
    with all its subsections, at drawn versions (``any_version``) or the current
    ones (what the C writer writes)."""

    @hs.composite
    def build(draw):
        entries, lines = [], []
        for i, st in enumerate(owners(ss)):
            v = draw(hs.sampled_from(list(st.versions))) if any_version else st.version
            values = draw(members_strategy(st.layouts[v], st, ss))
            entry = {"state": st.name, "version": v, "instance_id": i + 1,
                     "fields": fields_to_doc(st.layouts[v], values), "subsections": []}
            lines += [f"entry {st.name} v={v} i={i + 1}", *flatten(st.layouts[v], values)]
            for sub in st.subsections_for(v):
                sst = sub.state
                sv = draw(hs.sampled_from(list(sst.versions))) if any_version else sst.version
                sval = draw(members_strategy(sst.layouts[sv], sst, ss))
                entry["subsections"].append({"state": sst.name, "version": sv,
                                             "fields": fields_to_doc(sst.layouts[sv], sval)})
                lines += [f"entry {sst.name} v={sv} i={i + 1}", *flatten(sst.layouts[sv], sval)]
            entries.append(entry)
        return entries, lines

    return build()


def write_tokens(ss: m.SchemaSet, lines: list[str]) -> str:
    """The harness writer's input for the lines of ``streams(ss, any_version=False)``."""
    roots = {st.name for st in owners(ss)}
    out = []
    for line in lines:
        if line.startswith("entry "):
            _, state, _, inst = line.split()
            if state in roots:
                out += [state, inst.split("=")[1]]
        else:
            out.append(line.split("=", 1)[1] or "-")
    return " ".join(out + ["end"])


def entry_lines(ss: m.SchemaSet, ent: dict) -> list[str]:
    """The lines the harness prints for one decoded entry (a decode document's)."""
    st = ss.states[ent["state"]]
    lay = st.layouts[ent["version"]]
    return [f"entry {st.name} v={ent['version']} i={ent['instance_id']}",
            *flatten(lay, fields_from_doc(lay, ent["fields"]))]


def decoded_lines(ss: m.SchemaSet, doc: dict) -> list[str]:
    return [line for e in doc["entries"] for ent in [e, *e.get("subsections", [])]
            for line in entry_lines(ss, ent)]


# --- the harness C program ------------------------------------------------------

_PRELUDE = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void phex(const char *p, const char *name, const void *data, size_t n)
{
	const unsigned char *b = data;
	size_t i;

	printf("%s%s=", p, name);
	for (i = 0; i < n; i++)
		printf("%02x", b[i]);
	printf("\n");
}

static char tok[1 << 16];

static const char *next_tok(void)
{
	if (scanf("%65535s", tok) != 1) {
		fprintf(stderr, "harness: out of tokens\n");
		exit(3);
	}
	return tok;
}

static unsigned long long tok_u(void) { return strtoull(next_tok(), NULL, 10); }
static long long tok_s(void) { return strtoll(next_tok(), NULL, 10); }

static void tok_hex(void *dst, size_t n)
{
	const char *t = next_tok();
	unsigned char *d = dst;
	size_t i;

	if (n == 0 && !strcmp(t, "-"))
		return;
	if (strlen(t) != 2 * n) {
		fprintf(stderr, "harness: hex of %zu bytes expected, got '%s'\n", n, t);
		exit(3);
	}
	for (i = 0; i < n; i++) {
		unsigned int x;

		sscanf(t + 2 * i, "%2x", &x);
		d[i] = (unsigned char)x;
	}
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		exit(4);
	return p;
}
"""


class _Gen:
    def __init__(self, ss: m.SchemaSet):
        self.ss = ss
        self.lines: list[str] = []

    def emit(self, *lines: str) -> None:
        self.lines.extend(lines)

    # dump ----------------------------------------------------------------
    def dump_elem(self, t: m.ValueType, lv: str, name_fmt: str, args: str) -> list[str]:
        """Print one element; ``name_fmt``/``args`` build its path after the prefix."""
        pname = f'snprintf(nm, sizeof(nm), "{name_fmt}"{args});'
        if isinstance(t, m.IntType) or isinstance(t, m.EnumType) or isinstance(t, m.BytesType):
            it = t if isinstance(t, m.IntType) else (t.decl.base if isinstance(t, m.EnumType)
                                                       else m.int_type("u8"))
            if it.signed:
                return [pname, f'printf("%s%s=%lld\\n", p, nm, (long long){lv});']
            return [pname, f'printf("%s%s=%llu\\n", p, nm, (unsigned long long){lv});']
        if isinstance(t, m.BoolType):
            return [pname, f'printf("%s%s=%d\\n", p, nm, (int){lv});']
        if isinstance(t, (m.AddrType, m.FolioType)):
            return [pname, f'printf("%s%s=%llu\\n", p, nm, (unsigned long long){lv});']
        if isinstance(t, m.CharType):
            return [pname, f"phex(p, nm, {lv}, {t.length});"]
        if isinstance(t, m.StructType):
            return [pname, "{ char q[512]; snprintf(q, sizeof(q), \"%s%s.\", p, nm); "
                    f"dump_s_{t.decl.name}(&{lv}, q); }}"]
        if isinstance(t, m.StateType):
            d = t.decl
            return [pname, "{ char q[512]; snprintf(q, sizeof(q), \"%s%s.\", p, nm); "
                    f"dump_{d.name}(&{lv}, {d.version}, q); }}"]
        raise TypeError(t)

    def dump_members(self, members, obj: str, count_of) -> list[str]:
        out: list[str] = []
        for mb in members:
            if mb.is_bits:
                for b in mb.fields:
                    out.append(f'printf("%s{b.name}=%llu\\n", p, (unsigned long long){obj}{b.c_name});')
                continue
            f: m.Field = mb
            lv = f"{obj}{f.c_name}"
            if f.shape is None:
                dump = self.dump_elem(f.type, f"(*{lv})" if f.pointer else lv, f.name, "")
                # a pointer a nested state's older version left NULL is skipped
                out += [f"if ({lv}) {{", *("\t" + l for l in dump), "}"] if f.pointer else dump
                continue
            if isinstance(f.shape, m.Fixed):
                n = str(f.shape.length)
            elif isinstance(f.shape, m.Counted):
                n = f"(size_t){obj}{count_of(f.shape.count)}"
            else:
                n = f"{obj}{count_of(f)}"
                out.append(f'printf("%s{f.name}.len=%zu\\n", p, (size_t){n});')
            if _is_blob(f):
                out.append(f'phex(p, "{f.name}", {lv}, {n});')
                continue
            el = f"(*{lv}[i])" if f.pointer else f"{lv}[i]"
            dump = self.dump_elem(f.type, el, f.name + "[%zu]", ", i")
            if f.pointer:
                dump = [f"if ({lv}[i]) {{", *("\t" + l for l in dump), "}"]
            out += [f"for (size_t i = 0; i < {n}; i++) {{", *("\t" + l for l in dump), "}"]
        return out

    # fill ----------------------------------------------------------------
    def fill_elem(self, t: m.ValueType, lv: str) -> list[str]:
        if isinstance(t, (m.IntType, m.EnumType, m.BytesType)):
            it = t if isinstance(t, m.IntType) else (t.decl.base if isinstance(t, m.EnumType)
                                                       else m.int_type("u8"))
            return [f"{lv} = {'tok_s()' if it.signed else 'tok_u()'};"]
        if isinstance(t, m.BoolType):
            return [f"{lv} = tok_u() != 0;"]
        if isinstance(t, (m.AddrType, m.FolioType)):
            return [f"{lv} = tok_u();"]
        if isinstance(t, m.CharType):
            return [f"tok_hex({lv}, {t.length});"]
        if isinstance(t, m.StructType):
            return [f"fill_s_{t.decl.name}(&{lv});"]
        if isinstance(t, m.StateType):
            return [f"fill_{t.decl.name}(&{lv});"]
        raise TypeError(t)

    def fill_members(self, members, obj: str, count_of) -> list[str]:
        out: list[str] = []
        for mb in members:
            if mb.is_bits:
                for b in mb.fields:
                    out.append(f"{obj}{b.c_name} = tok_u();")
                continue
            f: m.Field = mb
            lv = f"{obj}{f.c_name}"
            if f.shape is None:
                if f.pointer:
                    out.append(f"{lv} = xcalloc(1, sizeof(*{lv}));")
                    out += self.fill_elem(f.type, f"(*{lv})")
                else:
                    out += self.fill_elem(f.type, lv)
                continue
            if isinstance(f.shape, m.Fixed):
                n = str(f.shape.length)
            elif isinstance(f.shape, m.Counted):
                n = f"(size_t){obj}{count_of(f.shape.count)}"
                out.append(f"{lv} = xcalloc({n}, sizeof(*{lv}));")
            else:
                n = f"{obj}{count_of(f)}"
                out += [f"{n} = tok_u();", f"{lv} = xcalloc({n}, sizeof(*{lv}));"]
            if _is_blob(f):
                out.append(f"tok_hex({lv}, {n});")
                continue
            body = []
            if f.pointer:
                body.append(f"{lv}[i] = xcalloc(1, sizeof(*{lv}[i]));")
            body += self.fill_elem(f.type, f"(*{lv}[i])" if f.pointer else f"{lv}[i]")
            out += [f"for (size_t i = 0; i < {n}; i++) {{", *("\t" + l for l in body), "}"]
        return out


def _rest_member(owner: m.State, f: m.Field) -> str:
    """The C count member of a [..] array (as the backend names it)."""
    taken = {x.c_name for o in (owner, *[s.state for s in owner.subsections if s.state])
             for _, x in m.member_names(o.members)}
    for o in (owner, *[s.state for s in owner.subsections if s.state]):
        for mb in o.members:
            if not mb.is_bits and isinstance(mb.shape, m.Rest):
                name = f"nr_{mb.c_name}"
                while name in taken:
                    name += "_"
                taken.add(name)
                if mb is f:
                    return name
    raise KeyError(f.name)


def harness_source(ss: m.SchemaSet, headers: list[str]) -> str:
    g = _Gen(ss)
    g.emit(*[f'#include "{h}"' for h in headers], _PRELUDE)
    structs = list(ss.structs.values())
    states = list(ss.states.values())
    for s in structs:
        g.emit(f"static void dump_s_{s.name}(const struct {s.c_name} *v, const char *p);",
               f"static void fill_s_{s.name}(struct {s.c_name} *v);")
    for st in states:
        owner = st.parent or st
        g.emit(f"static void dump_{st.name}(const struct {owner.c_name} *obj, int version, const char *p);",
               f"static void fill_{st.name}(struct {owner.c_name} *obj);")
    for s in structs:
        g.emit(f"static void dump_s_{s.name}(const struct {s.c_name} *v, const char *p)", "{",
               "\tchar nm[256];", "\t(void)nm;",
               *("\t" + l for l in g.dump_members(s.members, "v->", None)), "}")
        g.emit(f"static void fill_s_{s.name}(struct {s.c_name} *v)", "{",
               *("\t" + l for l in g.fill_members(s.members, "v->", None)), "}")
    for st in states:
        owner = st.parent or st

        def count_of(x, st=st, owner=owner):
            if isinstance(x, str):
                return st.field(x).c_name
            return _rest_member(owner, x)

        g.emit(f"static void dump_{st.name}(const struct {owner.c_name} *obj, int version, const char *p)", "{",
               "\tchar nm[256];", "\t(void)nm;", "\tswitch (version) {")
        for v in st.versions:
            g.emit(f"\tcase {v}:", *("\t\t" + l for l in g.dump_members(st.layouts[v], "obj->", count_of)),
                   "\t\tbreak;")
        g.emit("\tdefault:", "\t\tprintf(\"bad version\\n\");", "\t}", "}")
        g.emit(f"static void fill_{st.name}(struct {owner.c_name} *obj)", "{",
               *("\t" + l for l in g.fill_members(st.layouts[st.version], "obj->", count_of)))
        for sub in st.subsections:
            if sub.state is not None:
                g.emit(f"\tfill_{sub.state.name}(obj);")
        g.emit("}")

    # read: dispatch on state_id
    read_cases, write_cases = [], []
    for st in states:
        owner = st.parent or st
        read_cases += [f"\t\tcase {st.c_id}: {{",
                       f"\t\t\tstruct {owner.c_name} obj;",
                       "\t\t\tmemset(&obj, 0, sizeof(obj));",
                       f"\t\t\terr = {st.name}_ks_read(&e, &obj, &arena);",
                       "\t\t\tif (err)", "\t\t\t\tbreak;",
                       f'\t\t\tprintf("entry {st.name} v=%d i=%d\\n", (int)e.version_id, (int)e.instance_id);',
                       f'\t\t\tdump_{st.name}(&obj, e.version_id, "");',
                       "\t\t\tbreak;", "\t\t}"]
        if st.parent is None:
            write_cases += [f'\t\tif (!strcmp(t, "{st.name}")) {{',
                            f"\t\t\tstruct {owner.c_name} *obj = xcalloc(1, sizeof(*obj));",
                            "\t\t\tint inst = (int)tok_s();",
                            f"\t\t\tfill_{st.name}(obj);",
                            f"\t\t\terr = {st.name}_ks_write(&w, obj, inst);",
                            "\t\t\tcontinue;", "\t\t}"]
    g.emit(r"""
/* the stream offset of the last error (the reader's err_at, the entry's) */
static size_t g_at;
/* diff modes: each entry's offset and failure; g_lenient: read on after an entry's failure */
static int g_diff, g_lenient;

static int read_all(const unsigned char *buf, size_t len, void *abuf, size_t acap)
{
	struct ks_reader r;
	struct ks_entry e;
	struct ks_arena arena;
	int err, n;

	/* garbage in the caller's buffer must not leak into what the reader returns */
	memset(abuf, 0xa5, acap);
	ks_arena_init(&arena, abuf, acap);
	err = ks_reader_init(&r, buf, len);
	g_at = r.err_at;
	if (err)
		return err;
	for (;;) {
		n = ks_reader_next(&r, &e);
		if (n <= 0) {
			g_at = r.err_at;
			break;
		}
		if (g_diff)
			printf("at %zu\n", e.offset);
		arena.used = 0;
		err = KS_ERR_WRONG_STATE;
		switch (e.state_id) {""")
    g.emit(*read_cases)
    g.emit(r"""		default:
			err = 1;
			printf("entry unknown id=%d\n", (int)e.state_id);
		}
		if (err < 0) {
			g_at = e.err_at;
			if (g_diff)
				printf("fail %s at=%zu\n", ks_strerror(err), g_at);
			if (!g_lenient)
				return err;
		}
	}
	if (n < 0)
		return n;
	printf("eof trailing=%zu\n", ks_reader_trailing(&r));
	return 0;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	if (!f)
		exit(5);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		exit(5);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

int main(int argc, char **argv)
{
	static unsigned char abuf[1 << 20];
	int err = 0;

	if (argc == 3 && !strcmp(argv[1], "read")) {
		size_t len;
		unsigned char *buf = slurp(argv[2], &len);

		err = read_all(buf, len, abuf, sizeof(abuf));
		if (err)
			printf("error %s\n", ks_strerror(err));
		free(buf);
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "diff")) {
		/*
		 * The differential harness: each FILE read as `read` does, with each
		 * entry's offset ("at N") and failure ("fail CODE at=N"), then
		 * "error CODE at=N" or the EOF's line, then "--".  "lenient" reads on
		 * after an entry's failure, as a caller that skips a bad entry does.
		 */
		int k;

		g_diff = 1;
		g_lenient = !strcmp(argv[2], "lenient");
		for (k = 3; k < argc; k++) {
			size_t len;
			unsigned char *buf = slurp(argv[k], &len);

			err = read_all(buf, len, abuf, sizeof(abuf));
			if (err)
				printf("error %s at=%zu\n", ks_strerror(err), g_at);
			printf("--\n");
			free(buf);
		}
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "hostile")) {
		/* every prefix and every one-byte corruption, each in an exact-size heap copy */
		size_t len, k, i;
		unsigned char *buf = slurp(argv[2], &len);
		static const unsigned char pokes[] = { 0x00, 0x01, 0x7f, 0x80, 0xff };
		unsigned long results[32] = { 0 };
		FILE *devnull = fopen("/dev/null", "w");
		FILE *out = stdout;

		stdout = devnull;
		for (k = 0; k <= len; k++) {
			unsigned char *c = malloc(k ? k : 1);

			memcpy(c, buf, k);
			err = read_all(c, k, abuf, 256);
			results[-err & 31]++;
			free(c);
		}
		for (i = 0; i < len; i++) {
			for (k = 0; k < sizeof(pokes); k++) {
				unsigned char *c = malloc(len);

				memcpy(c, buf, len);
				c[i] = pokes[k];
				err = read_all(c, len, abuf, sizeof(abuf));
				results[-err & 31]++;
				free(c);
			}
		}
		stdout = out;
		fclose(devnull);
		for (i = 0; i < 32; i++)
			if (results[i])
				printf("%s %lu\n", ks_strerror(-(int)i), results[i]);
		free(buf);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "write")) {
		static unsigned char obuf[1 << 20];
		struct ks_writer w;
		FILE *f;

		ks_writer_init(&w, obuf, sizeof(obuf), !strcmp(argv[2], "big") ? KS_BIG : KS_LITTLE);
		for (;;) {
			const char *t = next_tok();

			if (!strcmp(t, "end"))
				break;""")
    g.emit(*write_cases)
    g.emit(r"""			fprintf(stderr, "harness: unknown state %s\n", t);
			return 3;
		}
		if (!err)
			err = ks_writer_finish(&w);
		if (err) {
			printf("error %s\n", ks_strerror(err));
			return 0;
		}
		f = fopen(argv[3], "wb");
		if (!f || fwrite(obuf, 1, w.len, f) != w.len)
			return 5;
		fclose(f);
		printf("ok %zu\n", w.len);
		return 0;
	}
	fprintf(stderr, "usage: harness read FILE | diff strict|lenient FILE... | hostile FILE | write little|big OUT < values\n");
	return 2;
}
""")
    return "\n".join(g.lines) + "\n"


# --- building ------------------------------------------------------------------

CFLAGS = ["-std=gnu11", "-Wall", "-Wextra", "-Werror"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]


def build_harness(ss: m.SchemaSet, gen_dir: Path, out: Path, sanitize: bool = True) -> Path:
    headers = sorted(str(p.relative_to(gen_dir)) for p in gen_dir.rglob("*.h") if p.name != "kstate_rt.h")
    src = out.with_suffix(".c")
    src.write_text(harness_source(ss, headers))
    cmd = ["gcc", *CFLAGS, "-Wno-unused-function", "-Wno-unused-parameter", "-O1", "-g", *(SANITIZE if sanitize else []),
           "-I", str(gen_dir), "-o", str(out), str(src)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return out


def run(exe: Path, *args: str, input: str | None = None) -> str:
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:abort_on_error=0",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    res = subprocess.run([str(exe), *args], input=input, capture_output=True, text=True, timeout=120, env=env)
    if res.returncode != 0:
        raise AssertionError(f"harness failed ({res.returncode}): {res.stderr[-3000:]}")
    return res.stdout


# --- the kernel harness: generated tables run through tests/c/kernel/kstate_emu.c -----

KERNEL_DIR = Path(__file__).parent / "kernel"
KERNEL_INCLUDE = Path(__file__).parent / "include"
_BASES = {"linear": "PAGE_OFFSET", "vmemmap": "VMEMMAP_START"}


def kernel_supported(st: m.State) -> bool:
    """Every state: the kernel tables handle every field kind."""
    return True


class _KGen(_Gen):
    """Fill/dump for the kernel structs: addr and folio are pointers there."""

    def dump_elem(self, t, lv, name_fmt, args):
        if isinstance(t, m.AddrType):
            pname = f'snprintf(nm, sizeof(nm), "{name_fmt}"{args});'
            return [pname, f'printf("%s%s=%llu\\n", p, nm, '
                           f'(unsigned long long)((unsigned long){lv} - {_BASES[t.area]}));']
        if isinstance(t, m.FolioType):
            pname = f'snprintf(nm, sizeof(nm), "{name_fmt}"{args});'
            return [pname, f'printf("%s%s=%llu\\n", p, nm, (unsigned long long)(unsigned long){lv});']
        return super().dump_elem(t, lv, name_fmt, args)

    def fill_elem(self, t, lv):
        if isinstance(t, m.AddrType):
            return [f"{lv} = (void *)(unsigned long)(tok_u() + {_BASES[t.area]});"]
        if isinstance(t, m.FolioType):
            return [f"{lv} = (struct folio *)(unsigned long)tok_u();"]
        return super().fill_elem(t, lv)

    def prepare(self, members, obj: str) -> list[str]:
        """Point pointer members at storage before a restore (the RFC writes through them)."""
        out = []
        for mb in members:
            if mb.is_bits or not mb.pointer or mb.removed is not None:
                continue
            lv = f"{obj}{mb.c_name}"
            if mb.shape is None:
                out.append(f"{lv} = xcalloc(1, sizeof(*{lv}));")
            elif isinstance(mb.shape, m.Fixed):
                out.append(f"for (size_t i = 0; i < {mb.shape.length}; i++) {lv}[i] = xcalloc(1, sizeof(*{lv}[i]));")
        return out


_KPRELUDE = r"""
int printf(const char *fmt, ...);
int snprintf(char *s, size_t n, const char *fmt, ...);
int scanf(const char *fmt, ...);
int sscanf(const char *s, const char *fmt, ...);
unsigned long long strtoull(const char *s, char **end, int base);
long long strtoll(const char *s, char **end, int base);
void *calloc(size_t n, size_t size);
void exit(int code);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int emu_save_all(const u8 **out);
void emu_set_stream(const u8 *data);
"""


def kernel_harness_source(ss: m.SchemaSet, headers: list[str]) -> str:
    g = _KGen(ss)
    stems = [h[:-2] for h in headers]
    import re as _re
    g.emit(*[f"#define KSTATE_DEFINE_{_re.sub(r'[^A-Za-z0-9_]', '_', s.replace('/', '__')).upper()}"
             for s in stems])
    g.emit(*[f'#include "{h}"' for h in headers], _KPRELUDE)
    g.emit(_PRELUDE.split("static char tok")[0].replace("#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n", ""))
    g.emit("static char tok" + _PRELUDE.split("static char tok")[1])
    # hooks and @custom callbacks
    for st in ss.states.values():
        owner = st.parent or st
        for _, f in m.member_names(st.members):
            if isinstance(f, m.Field) and f.removed is not None and not f.discard and f.custom is None \
                    and any(f.present_in(v) for v in st.versions):
                g.emit(f"int {st.name}_restore_{f.name}(struct {owner.c_name} *obj, const void *old, size_t size)",
                       "{", "\t(void)obj;", f'\tprintf("hook {st.name}.{f.name} size=%zu ", size);',
                       '\tphex("", "hex", old, size);', "\treturn 0;", "}")
            if isinstance(f, m.Field) and f.custom is not None:
                size = f"sizeof(((struct {owner.c_name} *)0)->{f.c_name})"
                g.emit(f"int {f.custom[0]}(struct kstate_stream *stream, void *obj, const struct kstate_field *field)",
                       "{", "\t(void)field;", f"\treturn kstate_save_data(stream, obj, {size});", "}",
                       f"int {f.custom[1]}(struct kstate_stream *stream, void *obj, const struct kstate_field *field)",
                       "{", "\t(void)field;", f"\tkstate_restore_data(stream, obj, {size});", "\treturn 0;", "}")
    structs = list(ss.structs.values())
    states = list(ss.states.values())
    for s in structs:
        g.emit(f"static void dump_s_{s.name}(const struct {s.c_name} *v, const char *p);",
               f"static void fill_s_{s.name}(struct {s.c_name} *v);")
    for st in states:
        owner = st.parent or st
        g.emit(f"static void dump_{st.name}(const struct {owner.c_name} *obj, int version, const char *p);",
               f"static void fill_{st.name}(struct {owner.c_name} *obj);",
               f"static void prep_{st.name}(struct {owner.c_name} *obj);")
    for s in structs:
        g.emit(f"static void dump_s_{s.name}(const struct {s.c_name} *v, const char *p)", "{",
               "\tchar nm[256];", "\t(void)nm;",
               *("\t" + l for l in g.dump_members(s.members, "v->", None)), "}")
        g.emit(f"static void fill_s_{s.name}(struct {s.c_name} *v)", "{",
               *("\t" + l for l in g.fill_members(s.members, "v->", None)), "}")
    for st in states:
        owner = st.parent or st

        def count_of(x, st=st, owner=owner):
            if isinstance(x, str):
                return st.field(x).c_name
            return _rest_member(owner, x)

        g.emit(f"static void dump_{st.name}(const struct {owner.c_name} *obj, int version, const char *p)", "{",
               "\tchar nm[256];", "\t(void)nm;", "\tswitch (version) {")
        for v in st.versions:
            live = [mb for mb in st.layouts[v] if mb.is_bits or mb.removed is None]
            g.emit(f"\tcase {v}:", *("\t\t" + l for l in g.dump_members(live, "obj->", count_of)), "\t\tbreak;")
        g.emit("\tdefault:", "\t\tprintf(\"bad version\\n\");", "\t}", "}")
        g.emit(f"static void fill_{st.name}(struct {owner.c_name} *obj)", "{",
               *("\t" + l for l in g.fill_members(st.layouts[st.version], "obj->", count_of)))
        for sub in st.subsections:
            if sub.state is not None:
                g.emit(f"\tfill_{sub.state.name}(obj);")
        g.emit("}")
        prep = g.prepare(st.members, "obj->")
        for mb in st.members:
            if not mb.is_bits and isinstance(mb.type, m.StateType) and mb.removed is None:
                if mb.shape is None and not mb.pointer:
                    prep.append(f"prep_{mb.type.decl.name}(&obj->{mb.c_name});")
                elif isinstance(mb.shape, m.Fixed) and not mb.pointer:
                    prep.append(f"for (size_t i = 0; i < {mb.shape.length}; i++) "
                                f"prep_{mb.type.decl.name}(&obj->{mb.c_name}[i]);")
        for sub in st.subsections:
            if sub.state is not None:
                prep.append(f"prep_{sub.state.name}(obj);")
        g.emit(f"static void prep_{st.name}(struct {owner.c_name} *obj)", "{", "\t(void)obj;",
               *("\t" + l for l in prep), "}")
    cases = []
    for st in states:
        if st.parent is not None or not kernel_supported(st):
            continue
        cases += [f'\tif (!strcmp(argv[2], "{st.name}")) {{',
                  f"\t\tstruct {st.c_name} *obj = xcalloc(1, sizeof(*obj));",
                  "\t\tif (!strcmp(argv[1], \"save\")) {",
                  "\t\t\tconst u8 *out;", "\t\t\tint n, i;", "",
                  f"\t\t\tfill_{st.name}(obj);",
                  f"\t\t\tn = {st.name}_kstate_register(obj, 1);",
                  "\t\t\tif (!n)", "\t\t\t\tn = emu_save_all(&out);",
                  "\t\t\tif (n < 0) { printf(\"error %d\\n\", n); return 0; }",
                  "\t\t\tfor (i = 0; i < n; i++) printf(\"%02x\", out[i]);",
                  "\t\t\tprintf(\"\\n\");", "\t\t\treturn 0;", "\t\t}",
                  f"\t\tprep_{st.name}(obj);",
                  "\t\tparse_hex(argv[3]);",
                  "\t\temu_set_stream(in);",
                  f"\t\tif ({st.name}_kstate_restore(obj, 1)) printf(\"restore failed\\n\");",
                  f'\t\tdump_{st.name}(obj, in[12] | in[13] << 8, "");']
        for sub in st.subsections:
            if sub.state is not None:
                cases.append(f'\t\tprintf("sub {sub.state.name}\\n");')
                cases.append(f'\t\tdump_{sub.state.name}(obj, {sub.state.version}, "");')
        cases += ["\t\treturn 0;", "\t}"]
    g.emit(r"""
static u8 in[1 << 16];

static void parse_hex(const char *s)
{
	size_t i;

	for (i = 0; s[2 * i] && s[2 * i + 1]; i++) {
		unsigned int x;

		sscanf(s + 2 * i, "%2x", &x);
		in[i] = (u8)x;
	}
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;""", *cases, "\treturn 2;", "}")
    return "\n".join(g.lines).replace("fprintf(stderr, ", "printf(") + "\n"


def build_kernel_harness(ss: m.SchemaSet, gen_dir: Path, out: Path) -> Path:
    headers = sorted(str(p.relative_to(gen_dir)) for p in gen_dir.rglob("*.h") if p.name != "kstate_rt.h")
    src = out.with_suffix(".c")
    src.write_text(kernel_harness_source(ss, headers))
    cmd = ["gcc", *CFLAGS, "-Wno-unused-function", "-Wno-unused-parameter", "-g", "-fsanitize=address",
           "-D__KERNEL__", "-DCONFIG_KSTATE=1", "-nostdinc", "-ffreestanding", "-I", str(KERNEL_INCLUDE),
           "-I", str(gen_dir),
           "-o", str(out), str(src), str(KERNEL_DIR / "kstate_emu.c")]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode:
        raise AssertionError(res.stderr[-6000:])
    return out
