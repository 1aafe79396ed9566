"""Which arena storage the generated C reader zeroes: only what it does not
fill completely (pointers that must start NULL, nested states, structs with
unused bits).  Storage it fills is taken as it is (``ks_arena_take``, no
memset).  That the values read are right with garbage in the arena is the
harness's job (tests/test_c_backend.py fills the arena with 0xa5 before
every read); this pins down where the memset is skipped."""

from __future__ import annotations

import re
from pathlib import Path

import kstate
from kstate.backends import c as c_backend

ROOT = Path(__file__).resolve().parent.parent


def _takes(header: str) -> dict[str, str]:
    """lvalue -> the arena function that provides its storage."""
    return {m.group(1): m.group(2)
            for m in re.finditer(r"(obj->\w+(?:\[ks_i\])?) = (ks_arena_\w+)\(arena,", header)}


def test_every_kind_of_arena_storage():
    ss = kstate.load(ROOT / "tests" / "fixtures" / "c" / "every.kstate")
    takes = _takes(c_backend.render(ss)["c/every.h"])
    assert takes == {
        "obj->pu": "ks_arena_take",                 # *u32: the reader writes the u32
        "obj->ptrs[ks_i]": "ks_arena_take",         # *u8[2]: each pointee written
        "obj->counted": "ks_arena_take",            # u32[n]
        "obj->counted_recs": "ks_arena_alloc",      # rec[n]: rec's bits group has 12 unused bits
        "obj->pcounted": "ks_arena_alloc",          # *u16[n]: the pointers start NULL
        "obj->pcounted[ks_i]": "ks_arena_take",     # ... their u16s are written
        "obj->addrs": "ks_arena_take",
        "obj->data": "ks_arena_take",
        "obj->old_arr": "ks_arena_take",
        "obj->tail": "ks_arena_take",
    }


def test_the_million_folio_array_is_not_zeroed_first():
    ss = kstate.load(ROOT / "schemas" / "memfd.kstate")
    header = c_backend.render(ss)["c/memfd.h"]
    assert _takes(header) == {"obj->folios": "ks_arena_take"}
    # the runtime still zeroes for ks_arena_alloc, and takes without it
    rt = c_backend.render(ss)["c/kstate_rt.h"]
    alloc = rt[rt.index("static inline void *ks_arena_alloc("):]
    assert "memset(p, 0, n * size);" in alloc[:alloc.index("\n}\n")]
    take = rt[rt.index("static inline void *ks_arena_take("):]
    assert "memset" not in take[:take.index("\n}\n")]
