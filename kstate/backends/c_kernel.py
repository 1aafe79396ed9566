"""Kernel C: the ``struct kstate_description`` tables and their callbacks.

Each field of a state becomes one ``struct kstate_field``.  Where the RFC's
macros (``include/linux/kstate.h``) do exactly what the schema says, they are
used as they are (``native()`` decides); everything else gets a generated
``KS_CUSTOM`` callback pair (see docs/c-backend.md for the table):

* the RFC's ``KSTATE_BASE_TYPE_DEPRECATED(f, T, N-1)`` skips the bytes only in
  entries of version N-1, so a removed field on the wire in any other
  supported version, or one that is not ``@discard``, gets a callback;
* ``.count`` takes no object, so counted and ``[..]`` arrays get callbacks;
* ``typeof`` rejects bit-fields, so ``bits`` groups get callbacks;
* the RFC hands a field's bytes to one ``kstate_save_data()`` call, and its
  ``alloc_space()`` grows the stream by a factor of two whatever the request,
  so fields larger than ``KS_SAVE_CHUNK`` get callbacks that save in pieces;
* the RFC ignores the return code of a custom restore (and of a nested
  state's), so folios, ``@custom`` fields and nested states that can fail get
  callbacks that record the first error in the entry's context;
* ``folio``/``addr`` arrays and pointer arrays get callbacks.

A state with generated callbacks keeps its context (``struct ks_entry_ctx``,
kstate_rt.h) in a kernel-only member of its object, filled by a probe, the
table's first field.  Nothing is static: restores of two objects can run at
once.  Restore callbacks do nothing once the entry has failed, and leave a
runtime array's count and pointer consistent (count 0; the pointer freed and
NULL if the callback allocated it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import model as m
from .c_types import (KERNEL, align, c_string, comment, declarator, function_body, is_memcpy, mask, u64,
                      uint_type, wrap_c, wrap_lines)
from .c_user import present_anywhere

#: kstate_rt.h's KS_SAVE_CHUNK: the most bytes one kstate_save_data() call gets
SAVE_CHUNK = 2048

_SHIFT_BIG = "IS_ENABLED(CONFIG_CPU_BIG_ENDIAN)"


@dataclass
class KState:
    """The kernel view of one state: table entries, callbacks, hooks."""

    name: str
    owner: str  # the C struct the callbacks get (the parent's for a subsection)
    ctx: str  # the kernel-only member of the owner holding this state's context
    entries: list[str] = field(default_factory=list)
    functions: list[list[str]] = field(default_factory=list)  # whole function texts
    hooks: list[str] = field(default_factory=list)  # prototypes the developer defines
    ctx_counts: list[str] = field(default_factory=list)  # members keeping removed counts
    needs_ctx: bool = False


def _head(name: str) -> list[str]:
    return [f"static int {name}(struct kstate_stream *stream, void *ks_obj,",
            align(len(f"static int {name}(")) + "const struct kstate_field *field)", "{"]


def _fn(name: str, body: list[str], owner: str, uses_obj: bool = True) -> list[str]:
    """A callback; ``body`` starts with its declarations, up to the first empty line."""
    decls: list[str] = [f"struct {owner} *obj = ks_obj;"] if uses_obj else []
    if "" in body:
        cut = body.index("")
        decls, body = decls + body[:cut], body[cut + 1:]
    lines = function_body(["stream", "ks_obj", "field"], decls, body)
    return wrap_lines(_head(name) + ["\t" + ln if ln else ln for ln in lines] + ["}"])


def _restore_fn(name: str, decls: list[str], body: list[str], cleanup: list[str], owner: str,
                ctx: str) -> list[str]:
    """A restore callback that does nothing once its entry failed, and records its own failure.

    ``body`` jumps to ``fail`` with ``ret`` set; ``cleanup`` runs on every failure.
    """
    head = [f"struct {owner} *obj = ks_obj;"] + decls + [f"int ret = obj->{ctx}.err;"]
    main = ["if (ret)", "\tgoto fail;", *body, "return 0;"]
    lines = function_body(["stream", "ks_obj", "field"], head, main + cleanup)
    lines = lines[:len(lines) - len(cleanup)]
    tail = ["fail:", *["\t" + ln for ln in cleanup], f"\treturn ks_restore_failed(&obj->{ctx}, ret);"]
    return wrap_lines(_head(name) + ["\t" + ln if ln else ln for ln in lines] + tail + ["}"])


def _entry(name: str, since: int | None, flags: str, extra: list[str]) -> str:
    """One designated initializer of the table, a member a line (placed two tabs in)."""
    parts = [f".name = {c_string(name)}"] + ([f".version_id = {since}"] if since else [])
    parts += [f".flags = {flags}", *extra]
    return "{\n" + "".join(f"\t\t\t{p},\n" for p in parts) + "\t\t}"


def _offset(owner: str, c_name: str) -> str:
    return f".offset = offsetof(struct {owner}, {c_name})"


def _since(f: m.Field, st: m.State) -> int:
    return f.since if f.since is not None and f.since > st.min_version else 0


def _area(t: m.AddrType) -> str:
    return "PAGE_OFFSET" if t.area == "linear" else "VMEMMAP_START"


def block(head: str, body: list[str]) -> list[str]:
    """``head`` over ``body``, with braces only around more than one line (kernel style)."""
    if len(body) == 1:
        return [head, "\t" + body[0]]
    return [head + " {", *["\t" + ln for ln in body], "}"]


def _fail_if_ret() -> list[str]:
    return ["if (ret)", "\tgoto fail;"]


def _fail(code: str) -> list[str]:
    return [f"ret = {code};", "goto fail;"]


_LOCALS = ["u64 ks_off = 0;", "size_t ks_i = 0;", "size_t ks_n = 0;", "bool ks_alloc = false;", "int ret = 0;"]


def _nested_fails(t: m.ValueType) -> bool:
    return isinstance(t, m.StateType) and needs_ctx(t.decl)


def _big(f: m.Field) -> bool:
    """A memcpy field (or pointee) too large for one kstate_save_data() call."""
    size = f.type.size if f.pointer and f.shape is None else f.size
    return size is not None and size > SAVE_CHUNK


def native(f: m.Field, st: m.State) -> bool:
    """Whether the RFC's own walk handles ``f`` exactly (no generated callback)."""
    t, shape = f.type, f.shape
    if f.custom is not None:
        return False
    if f.removed is not None:
        first = max(f.since or 0, st.min_version)
        return (f.discard and first >= f.removed - 1 and f.size is not None and not f.pointer)
    if shape is None and not f.pointer:
        if is_memcpy(t):
            return not _big(f)
        if isinstance(t, m.StateType):
            return not _nested_fails(t)
        return isinstance(t, m.AddrType)
    if shape is None:  # *T
        return (is_memcpy(t) and not _big(f)) or (isinstance(t, m.StateType) and not _nested_fails(t))
    if isinstance(shape, m.Fixed) and not f.pointer:
        return (is_memcpy(t) and not _big(f)) or (isinstance(t, m.StateType) and not _nested_fails(t))
    return False


def needs_ctx(st: m.State) -> bool:
    """Whether ``st``'s table has generated callbacks other than ``bits`` groups (then a context)."""
    return any(not mb.is_bits and present_anywhere(mb, st) and not native(mb, st) for mb in st.members)


class KernelGen:
    def __init__(self, st: m.State, rest_names: dict, ctx: str):
        self.st = st
        self.owner_state = st.parent or st
        self.owner = self.owner_state.c_name or self.owner_state.name
        self.k = KState(st.name, self.owner, ctx)
        self.rest_names = rest_names
        self.ctx = ctx
        self.entry = f"obj->{ctx}"  # the struct ks_entry_ctx of the entry at hand

    # --- element code -------------------------------------------------------

    def esave(self, t: m.ValueType, ptr: str) -> list[str]:
        """Save the element at C pointer ``ptr``; sets ``ret``."""
        if is_memcpy(t):
            return [f"ret = ks_save_bytes(stream, {ptr}, sizeof(*{ptr}));"]
        if isinstance(t, m.FolioType):
            return [f"ret = ks_folio_save(stream, {ptr}, field);"]
        if isinstance(t, m.AddrType):
            return [f"ks_off = (u64)((unsigned long)*{ptr} - (unsigned long){_area(t)});",
                    "ret = kstate_save_data(stream, &ks_off, sizeof(ks_off));"]
        return [f"ret = ks_save_entry(stream, &{t.decl.name}_kstate, {ptr}, {self.entry}.section_type);"]

    @staticmethod
    def erestore(t: m.ValueType, ptr: str) -> list[str]:
        """Restore the element at C pointer ``ptr``; jumps to fail on an error."""
        if is_memcpy(t):
            return [f"kstate_restore_data(stream, {ptr}, sizeof(*{ptr}));"]
        if isinstance(t, m.FolioType):
            return [f"ret = ks_folio_restore(stream, {ptr}, field);", *_fail_if_ret()]
        if isinstance(t, m.AddrType):
            return ["kstate_restore_data(stream, &ks_off, sizeof(ks_off));",
                    f"*{ptr} = (void *)((unsigned long)ks_off + (unsigned long){_area(t)});"]
        return [f"ret = ks_restore_entry(stream, &{t.decl.name}_kstate, {ptr});", *_fail_if_ret()]

    def fname(self, what: str, kind: str) -> str:
        return f"{self.st.name}_ks_{what}_{kind}"

    def custom(self, f_name: str, since: int, save: list[str] | None, restore: list[str],
               cleanup: list[str] | None = None) -> None:
        save_name = self.fname(f_name, "save") if save is not None else None
        restore_name = self.fname(f_name, "restore")
        self.k.needs_ctx = True
        if save is not None:
            self.k.functions.append(_fn(save_name, _LOCALS + [""] + save, self.owner))
        self.k.functions.append(_restore_fn(restore_name, _LOCALS[:-1], restore, cleanup or [],
                                            self.owner, self.ctx))
        extra = [".offset = 0"] + ([f".save = {save_name}"] if save_name else []) + [f".restore = {restore_name}"]
        self.k.entries.append(_entry(f_name, since, "KS_CUSTOM", extra))

    # --- members ------------------------------------------------------------

    def bits(self, g: m.BitsGroup, index: int) -> None:
        width = g.type.width
        ut = uint_type(width)
        save = [f"{ut} v = 0;", ""]
        restore = [f"{ut} v = 0;", "", "kstate_restore_data(stream, &v, sizeof(v));"]
        for b in g.fields:
            big, little = b.offset_for("big", 8 * width), b.offset
            shift = f"({_SHIFT_BIG} ? {big} : {little})" if big != little else str(little)
            save.append(f"v |= ({ut})(((u64)obj->{b.c_name} & {u64(mask(b.width))}) << {shift});")
            restore.append(f"obj->{b.c_name} = ((u64)v >> {shift}) & {u64(mask(b.width))};")
        save.append("return kstate_save_data(stream, &v, sizeof(v));")
        restore.append("return 0;")
        name = f"bits{index}"
        fields = {f.name for f in self.st.members if not f.is_bits}
        while name in fields:  # a field may be called bits0: keep the callbacks apart
            name = "_" + name
        self.k.functions.append(_fn(self.fname(name, "save"), save, self.owner))
        self.k.functions.append(_fn(self.fname(name, "restore"), restore, self.owner))
        label = ",".join(b.name for b in g.fields)
        self.k.entries.append(_entry(label, 0, "KS_CUSTOM", [
            f".save = {self.fname(name, 'save')}", f".restore = {self.fname(name, 'restore')}"]))

    def count_of(self, f: m.Field) -> tuple[str, str | None]:
        """(C expression of f's count, the obj member to zero on a failure or None)."""
        cf = self.st.field(f.shape.count)
        if isinstance(cf, m.Field) and cf.removed is not None:
            return f"(size_t)obj->{self.ctx}_nr_{cf.c_name}", None
        return f"(size_t)obj->{cf.c_name}", f"obj->{cf.c_name}"

    def removed(self, f: m.Field) -> None:
        st = self.st
        t = f.type
        if native(f, st):
            tname = declarator(f, "", KERNEL) if not isinstance(t, (m.AddrType, m.FolioType)) \
                else ("u64" if f.shape is None else f"u64[{f.shape.length}]")
            self.k.entries.append(f"KSTATE_BASE_TYPE_DEPRECATED({f.c_name}, {tname}, {f.removed - 1})")
            return
        body = [f"if ({self.entry}.version >= {f.removed})", "\treturn 0;"]
        if f.counts and isinstance(t, m.IntType):
            self.k.ctx_counts.append(f"{self.ctx}_nr_{f.c_name}")
            body += ["{", f"\t{t.c_type} ks_c = 0;", "",
                     "\tmemcpy(&ks_c, stream->pos, sizeof(ks_c));",
                     f"\tobj->{self.ctx}_nr_{f.c_name} = ks_c;", "}"]
        if isinstance(t, m.StateType):
            n = "1" if f.shape is None else (str(f.shape.length) if isinstance(f.shape, m.Fixed)
                                            else self.count_of(f)[0])
            body += [f"ks_n = {n};", "for (ks_i = 0; ks_i < ks_n; ks_i++) {",
                     "\tint ks_size = 0;", "",
                     "\tmemcpy(&ks_size, (u8 *)stream->pos + ks_off + 16, sizeof(ks_size));",
                     "\tks_off += 20 + (u64)ks_size;", "}", "ks_n = ks_off;"]
        elif isinstance(f.shape, m.Counted):
            body.append(f"ks_n = {self.count_of(f)[0]} * {t.size};")
        elif isinstance(f.shape, m.Rest):
            body.append(f"ks_n = (size_t)({self.entry}.payload + {self.entry}.size - (u8 *)stream->pos);")
        else:
            body.append(f"ks_n = {f.size};")
        if f.discard:
            body += ["stream->pos += ks_n;"]
        else:
            hook = st.restore_hook(f)
            self.k.hooks += comment(f"{f.name}: removed in version {f.removed}: {f.reason or ''}")
            self.k.hooks += wrap_c(f"int {hook}(struct {self.owner} *obj, const void *old, size_t size);")
            body += [f"ret = {hook}(obj, stream->pos, ks_n);", "stream->pos += ks_n;", *_fail_if_ret()]
        restore_name = self.fname(f.name, "restore")
        self.k.needs_ctx = True
        self.k.functions.append(_restore_fn(restore_name, _LOCALS[:-1], body, [], self.owner, self.ctx))
        self.k.entries.append(_entry(f.c_name, _since(f, st), "KS_CUSTOM", [
            ".offset = 0", f".restore = {restore_name}"]))

    def field(self, f: m.Field) -> None:
        st, owner = self.st, self.owner
        t, shape = f.type, f.shape
        since = _since(f, st)
        off = _offset(owner, f.c_name)
        if f.custom is not None:
            save, restore = f.custom
            target = "obj" if f.removed is not None else f"&obj->{f.c_name}"
            self.custom(f.c_name, since, [f"return {save}(stream, {target}, field);"],
                        [f"ret = {restore}(stream, {target}, field);", *_fail_if_ret()])
            return
        if f.removed is not None:
            self.removed(f)
            return
        tname = declarator(f, "", KERNEL)
        if native(f, st):
            self.native_entry(f, since, off, tname)
            return
        member = f"obj->{f.c_name}"
        if shape is None and not f.pointer:  # folio, a large field, a nested state that can fail
            self.custom(f.c_name, since, self.esave(t, f"&{member}") + ["return ret;"],
                        self.erestore(t, f"&{member}"))
            return
        if shape is None:  # *T
            self.custom(f.c_name, since,
                        [f"if (!{member})", "\treturn -EINVAL;"] + self.esave(t, member) + ["return ret;"],
                        [f"if (!{member})", "\tgoto fail_inval;"] + self.erestore(t, member))
            self.k.functions[-1] = _inval(self.k.functions[-1])
            return
        if isinstance(shape, m.Fixed) and not f.pointer:
            lv = f"&{member}[ks_i]"
            n = str(shape.length)
            if is_memcpy(t):  # a large array: its bytes in pieces
                self.custom(f.c_name, since, [f"return ks_save_bytes(stream, {member}, sizeof({member}));"],
                            [f"kstate_restore_data(stream, {member}, sizeof({member}));"])
                return
            self.custom(f.c_name, since, self._save_loop(n, self.esave(t, lv)) + ["return 0;"],
                        block(f"for (ks_i = 0; ks_i < {n}; ks_i++)", self.erestore(t, lv)))
            return
        if isinstance(shape, m.Fixed):  # *T[N]
            lv = f"{member}[ks_i]"
            restore = [f"if (!{lv})", f"\t{lv} = kzalloc(sizeof(*{lv}), GFP_KERNEL);",
                       f"if (!{lv})", "\tgoto fail_nomem;"] + self.erestore(t, lv)
            save = self._save_loop(str(shape.length), [f"if (!{lv})", "\treturn -EINVAL;"] + self.esave(t, lv))
            self.custom(f.c_name, since, save + ["return 0;"],
                        block(f"for (ks_i = 0; ks_i < {shape.length}; ks_i++)", restore))
            self.k.functions[-1] = _nomem(self.k.functions[-1])
            return
        self.runtime_array(f, since)

    def native_entry(self, f: m.Field, since: int, off: str, tname: str) -> None:
        t, shape, owner = f.type, f.shape, self.owner
        if shape is None and not f.pointer:
            if is_memcpy(t):
                self.k.entries.append(f"KSTATE_BASE_TYPE_V({f.c_name}, struct {owner}, {tname}, {since})")
            elif isinstance(t, m.StateType):
                self.k.entries.append(_entry(f.c_name, since, "KS_STRUCT", [
                    off, f".size = sizeof(struct {t.decl.c_name})", f".ksd = &{t.decl.name}_kstate"]))
            else:
                area = "KS_LINEAR_ADDR" if t.area == "linear" else "KS_VMEMMAP_ADDR"
                self.k.entries.append(f"KSTATE_ADDRESS_V({f.c_name}, struct {owner}, {area}, {since})")
        elif shape is None:
            if is_memcpy(t):
                self.k.entries.append(f"KSTATE_POINTER_V({f.c_name}, struct {owner}, {since})")
            else:
                self.k.entries.append(_entry(f.c_name, since, "KS_STRUCT | KS_POINTER", [
                    off, f".size = sizeof(struct {t.decl.c_name})", f".ksd = &{t.decl.name}_kstate"]))
        elif is_memcpy(t):
            self.k.entries.append(f"KSTATE_BASE_TYPE_V({f.c_name}, struct {owner}, {tname}, {since})")
        else:
            cname = self.fname(f.c_name, "count")
            self.k.functions.append([f"static int {cname}(void)", "{", f"\treturn {shape.length};", "}"])
            self.k.entries.append(_entry(f.c_name, since, "KS_STRUCT", [
                off, f".size = sizeof(struct {t.decl.c_name})", f".ksd = &{t.decl.name}_kstate",
                f".count = {cname}"]))

    @staticmethod
    def _save_loop(n: str, body: list[str]) -> list[str]:
        return block(f"for (ks_i = 0; ks_i < {n}; ks_i++)", body + ["if (ret)", "\treturn ret;"])

    def runtime_array(self, f: m.Field, since: int) -> None:
        """``T[count]``, ``*T[count]``, ``T[..]``."""
        t, shape = f.type, f.shape
        member = f"obj->{f.c_name}"
        if isinstance(shape, m.Counted):
            count, count_lv = self.count_of(f)
            save_n = [f"ks_n = {count};"]
            restore_n = save_n
            set_count: list[str] = []
        else:
            count_lv = f"obj->{self.rest_names[id(f)]}"
            save_n = [f"ks_n = {count_lv};"]
            restore_n = [f"ks_n = (size_t)({self.entry}.payload + {self.entry}.size - (u8 *)stream->pos) / "
                         f"sizeof(*{member});"]
            set_count = [f"{count_lv} = ks_n;"]
        limits = [f.max] if f.max is not None else []
        if isinstance(shape, m.Counted):
            cf = self.st.field(shape.count)
            if isinstance(cf, m.Field) and cf.max is not None:
                limits.append(cf.max)
        check = block(f"if (ks_n > {min(limits)})", _fail("-E2BIG")) if limits else []
        alloc = block(f"if (!{member} && ks_n)", [
            f"{member} = kvcalloc(ks_n, sizeof(*{member}), GFP_KERNEL);",
            *block(f"if (!{member})", _fail("-ENOMEM")), "ks_alloc = true;"])
        cleanup: list[str] = []
        if f.pointer:
            frees = block("for (ks_i = 0; ks_i < ks_n; ks_i++)", [f"kfree({member}[ks_i]);"])
        else:
            frees = []
        cleanup += block("if (ks_alloc)", frees + [f"kvfree({member});", f"{member} = NULL;"])
        if count_lv is not None:
            cleanup.append(f"{count_lv} = 0;")
        null_check = [f"if (ks_n && !{member})", "\treturn -EINVAL;"]
        if f.pointer:
            lv = f"{member}[ks_i]"
            save = save_n + null_check + self._save_loop("ks_n", [f"if (!{lv})", "\treturn -EINVAL;"]
                                                          + self.esave(t, lv)) + ["return 0;"]
            restore = restore_n + check + alloc + block("for (ks_i = 0; ks_i < ks_n; ks_i++)", [
                f"if (!{lv})", f"\t{lv} = kzalloc(sizeof(*{lv}), GFP_KERNEL);",
                *block(f"if (!{lv})", _fail("-ENOMEM")), *self.erestore(t, lv)])
        elif is_memcpy(t):
            save = save_n + null_check + [f"return ks_save_bytes(stream, {member}, ks_n * sizeof(*{member}));"]
            restore = restore_n + check + alloc + [
                "if (ks_n)", f"\tkstate_restore_data(stream, {member}, ks_n * sizeof(*{member}));"]
        else:
            lv = f"&{member}[ks_i]"
            save = save_n + null_check + self._save_loop("ks_n", self.esave(t, lv)) + ["return 0;"]
            restore = restore_n + check + alloc + block("for (ks_i = 0; ks_i < ks_n; ks_i++)",
                                                        self.erestore(t, lv))
        self.custom(f.c_name, since, save, restore + set_count, cleanup)

    def build(self) -> KState:
        index = 0
        for mb in self.st.members:
            if not present_anywhere(mb, self.st):
                continue
            if mb.is_bits:
                self.bits(mb, index)
                index += 1
            else:
                self.field(mb)
        if self.k.needs_ctx:
            probe = self.fname("entry", "probe")
            save_probe = self.fname("entry", "save_probe")
            self.k.functions.insert(0, _fn(save_probe, [
                f"ks_entry_probe_save(&{self.entry}, stream->pos);", "return 0;"], self.owner))
            self.k.functions.insert(0, _fn(probe, [
                f"ks_entry_probe_restore(&{self.entry}, stream->pos);", "return 0;"], self.owner))
            self.k.entries.insert(0, _entry("(entry)", 0, "KS_CUSTOM", [
                ".offset = 0", f".save = {save_probe}", f".restore = {probe}"]))
        return self.k


def _inval(fn: list[str]) -> list[str]:
    """Adds the fail_inval label a restore jumps to when its pointer is NULL."""
    return _extra_label(fn, "fail_inval", "-EINVAL")


def _nomem(fn: list[str]) -> list[str]:
    return _extra_label(fn, "fail_nomem", "-ENOMEM")


def _extra_label(fn: list[str], label: str, code: str) -> list[str]:
    at = fn.index("fail:")
    return fn[:at] + [f"{label}:", f"\tret = {code};"] + fn[at:]


def kernel_state(st: m.State, rest_names: dict, ctx: str) -> KState:
    return KernelGen(st, rest_names, ctx).build()


def custom_prototypes(st: m.State) -> list[str]:
    out = []
    for _, f in m.member_names(st.members):
        if isinstance(f, m.Field) and f.custom is not None:
            for fn in f.custom:
                out.append(f"int {fn}(struct kstate_stream *stream, void *obj,\n"
                           f"{align(len(fn) + 5)}const struct kstate_field *field);")
    return out


def restore_wrapper(st: m.State, kstates: dict[str, KState]) -> tuple[str, list[str], list[str]]:
    """(doc, prototype lines, definition lines) of ``<state>_kstate_register/_restore`` for a top-level state."""
    owner = st.c_name or st.name
    group = [st] + [s.state for s in st.subsections if s.state is not None]
    ctxs = [kstates[s.name].ctx for s in group if s.name in kstates and kstates[s.name].needs_ctx]
    reg = f"int {st.name}_kstate_register(struct {owner} *obj, int id)"
    res = f"int {st.name}_kstate_restore(struct {owner} *obj, int id)"
    body = [reg, "{", f"\treturn ks_register(&{st.name}_kstate, obj, id);", "}", "", res, "{"]
    if ctxs:
        body += ["\tint ret = 0;", ""] + [f"\tobj->{c}.err = 0;" for c in ctxs]
        body += [f"\tret = ks_restore(&{st.name}_kstate, obj, id);"]
        for c in ctxs:
            body += ["\tif (!ret)", f"\t\tret = obj->{c}.err;"]
        body += ["\treturn ret;", "}"]
    else:
        body += [f"\treturn ks_restore(&{st.name}_kstate, obj, id);", "}"]
    return st.name, wrap_lines([reg + ";", res + ";"]), wrap_lines(body)
