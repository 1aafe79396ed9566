"""The bundled schema set (``schemas/``) and its stored history.

The schemas are the project's realistic examples (memblock, IOMMU, KVM,
trace ring buffer, plus the spec's memfd, PCI and RFC test states); these
tests keep them compiling without warnings, keep every language feature in
use somewhere, and keep ``schemas/history/vN.json`` an honest, compatible
record of the past releases (docs/schemas.md).
"""

import filecmp
import json
import keyword
import shutil
from pathlib import Path

import pytest

import kstate
from kstate import model as m

from conftest import ROOT, run_kstate

SCHEMAS = ROOT / "schemas"
HISTORY = SCHEMAS / "history"
HISTORY_SRC = ROOT / "tools" / "history"
RELEASES = ["v1", "v2"]  # oldest first; the working tree is the next release
SPEC_FILES = {"memfd.kstate", "pci.kstate", "kstate_test.kstate"}  # copies of the spec's examples


@pytest.fixture(scope="module")
def current():
    return kstate.load(SCHEMAS)


@pytest.fixture(scope="module")
def history():
    return {rel: kstate.load(HISTORY / f"{rel}.json") for rel in RELEASES}


def own_files(schema_set):
    """The files this set adds besides the spec's three examples."""
    return [f for f in schema_set.files if f.path not in SPEC_FILES]


def all_fields(schema_set):
    """Every (owner, Field) of the set's states and structs, bits members aside."""
    for owner in list(schema_set.states.values()) + list(schema_set.structs.values()):
        for mem in owner.members:
            if not mem.is_bits:
                yield owner, mem


def fields_where(schema_set, pred):
    return [(o.name, f.name) for o, f in all_fields(schema_set) if pred(f)]


# --- the current set compiles cleanly ----------------------------------------


def test_every_schema_file_compiles_without_warnings(tmp_path):
    res = run_kstate("compile", "schemas", "-o", tmp_path / "out", "--lang", "json,docs")
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    snap = json.loads((tmp_path / "out/kstate-snapshot.json").read_text())
    paths = sorted(f["path"] for f in snap["files"])
    on_disk = sorted(p.relative_to(SCHEMAS).as_posix() for p in SCHEMAS.rglob("*.kstate"))
    assert paths == on_disk
    assert {"memblock.kstate", "iommu/iommu.kstate", "kvm/vm.kstate", "kvm/guest_memfd.kstate",
            "trace/ring_buffer.kstate"} <= set(paths)


@pytest.mark.parametrize("path", sorted(p.relative_to(SCHEMAS).as_posix()
                                        for p in SCHEMAS.rglob("*.kstate")))
def test_each_file_compiles_on_its_own(path):
    loaded = kstate.load(SCHEMAS / path)
    assert loaded.warnings == []
    assert [f.display for f in loaded.files if f.display.endswith(path)] == [f"schemas/{path}"]


def test_the_set_has_no_warnings_and_unique_ids_and_names(current):
    assert current.warnings == []
    ids = [s.id for s in current.states.values()] + [r.id for r in current.retired.values()]
    assert len(ids) == len(set(ids))
    names = (list(current.consts) + list(current.enums) + list(current.structs)
             + list(current.states) + list(current.retired))
    assert len(names) == len(set(names))
    # the spec's examples keep their ids
    assert {n: current.states[n].id for n in ("test", "test_v2", "memfd", "pci")} == {
        "test": 3, "test_v2": 4, "memfd": 16, "pci": 32}


def test_every_item_of_the_new_files_is_documented(current):
    undocumented = [(f.path, i.name) for f in own_files(current) for i in f.items
                    if not isinstance(i, m.Const) and not (i.doc or "").strip()]
    assert undocumented == []
    assert len(own_files(current)) >= 5


def test_every_count_is_bounded(current):
    """The codec decodes sample streams: every variable-length array has a bound."""
    unbounded = []
    for st in current.states.values():
        for mem in st.members:
            if mem.is_bits or not isinstance(mem.shape, (m.Counted, m.Rest)):
                continue
            if isinstance(mem.shape, m.Rest):
                ok = mem.max is not None
            else:
                count = st.field(mem.shape.count)
                ok = (mem.max is not None or getattr(count, "max", None) is not None
                      or getattr(count, "range", None) is not None)
            if not ok:
                unbounded.append((st.name, mem.name))
    assert unbounded == []


def test_constants_stay_clear_of_kernel_macro_names(current):
    """Constants become #defines in the generated headers, which kernel code
    includes next to its own macros."""
    clashing = {"PAGE_SIZE", "MODULE_NAME_LEN", "KVM_API_VERSION", "KVM_MAX_VCPUS",
                "KVM_STATS_NAME_SIZE", "KVM_MAX_NR_ADDRESS_SPACES", "RESERVE_MEM_NAME_SIZE",
                "RESERVE_MEM_MAX_ENTRIES", "RING_BUFFER_META_MAGIC"}
    assert clashing.isdisjoint(current.consts)


# --- every language feature is used somewhere --------------------------------


def test_consts_enums_flags_structs_and_retired_states(current):
    exprs = [c for c in current.consts.values()
             if any(op in c.expr_text for op in ("<<", "/", "*", "-", "+"))]
    assert len(exprs) >= 3
    # a constant defined from another constant
    assert any(any(o in c.expr_text for o in current.consts if o != c.name) for c in exprs)
    assert any(e.kind == "enum" for e in current.enums.values())
    assert any(e.kind == "flags" for e in current.enums.values())
    assert len(current.structs) >= 4
    assert "reserve_mem_fdt" in current.retired and current.retired["reserve_mem_fdt"].reason


def test_bits_groups_in_states_and_structs(current):
    in_states = [s.name for s in current.states.values() if any(mem.is_bits for mem in s.members)]
    in_structs = [s.name for s in current.structs.values() if any(mem.is_bits for mem in s.members)]
    assert "rb_meta_ser" in in_states and "iommu_domain_ser" in in_states
    assert "rb_page_hdr_ser" in in_structs


@pytest.mark.parametrize("what, pred", [
    ("*T", lambda f: f.pointer and f.shape is None),
    ("T[N]", lambda f: isinstance(f.shape, m.Fixed) and not f.pointer
     and not isinstance(f.type, (m.BytesType, m.CharType))),
    ("T[count]", lambda f: isinstance(f.shape, m.Counted) and not f.pointer
     and not isinstance(f.type, m.BytesType)),
    ("T[..]", lambda f: isinstance(f.shape, m.Rest)),
    ("*T[N]", lambda f: f.pointer and isinstance(f.shape, m.Fixed)),
    ("*T[count]", lambda f: f.pointer and isinstance(f.shape, m.Counted)),
    ("char[N]", lambda f: isinstance(f.type, m.CharType)),
    ("bytes[N]", lambda f: isinstance(f.type, m.BytesType) and isinstance(f.shape, m.Fixed)),
    ("bytes[count]", lambda f: isinstance(f.type, m.BytesType) and isinstance(f.shape, m.Counted)),
    ("addr(vmemmap)", lambda f: isinstance(f.type, m.AddrType) and f.type.area == "vmemmap"),
    ("addr(linear)", lambda f: isinstance(f.type, m.AddrType) and f.type.area == "linear"),
    ("folio", lambda f: isinstance(f.type, m.FolioType)),
    ("bool", lambda f: isinstance(f.type, m.BoolType)),
    ("signed int", lambda f: isinstance(f.type, m.IntType) and f.type.signed),
    ("enum field", lambda f: isinstance(f.type, m.EnumType) and f.type.kind == "enum"),
    ("flags field", lambda f: isinstance(f.type, m.EnumType) and f.type.kind == "flags"),
    ("struct field", lambda f: isinstance(f.type, m.StructType)),
    ("nested state", lambda f: isinstance(f.type, m.StateType) and f.shape is None),
    ("array of nested states", lambda f: isinstance(f.type, m.StateType)
     and isinstance(f.shape, m.Counted) and not f.pointer),
    ("pointers to nested states", lambda f: isinstance(f.type, m.StateType) and f.pointer
     and f.shape is not None),
    ("fixed value", lambda f: f.fixed is not None),
    ("@since", lambda f: f.since is not None),
    ("@removed with a restore hook", lambda f: f.removed is not None and not f.discard),
    ("@removed ... @discard", lambda f: f.removed is not None and f.discard),
    ("@max", lambda f: f.max is not None),
    ("@range", lambda f: f.range is not None),
    ("@custom", lambda f: f.custom is not None),
    ("@c", lambda f: f.c_name and f.c_name != f.name),
    ("field named flags", lambda f: f.name == "flags"),
    ("field named id", lambda f: f.name == "id"),
    ("field named version", lambda f: f.name == "version"),
    ("field named with a Python keyword", lambda f: keyword.iskeyword(f.name)),
])
def test_feature_is_used_by_the_new_schemas(current, what, pred):
    own = {f.path for f in own_files(current)}
    hits = [(o, n) for o, n in fields_where(current, pred)
            if (current.states.get(o) or current.structs.get(o)).file.path in own]
    assert hits, f"no field of the new schema files uses {what}"


def test_specific_feature_uses(current):
    st = current.states
    assert st["trace_scratch_ser"].field("entries").shape == m.Rest()
    cpus = st["rb_meta_ser"].field("cpus")
    assert cpus.pointer and cpus.shape == m.Counted("nr_cpus") and cpus.type.decl is st["rb_cpu_meta_ser"]
    slots = st["kvm_vm_ser"].field("memslots")
    assert slots.pointer and isinstance(slots.shape, m.Fixed) and slots.type.decl is st["kvm_memslots_ser"]
    units = st["iommu_flb_ser"].field("units")
    assert units.shape == m.Counted("nr_units") and units.type.decl is st["iommu_hw_ser"]
    assert st["iommu_flb_ser"].field("magic").fixed == 0x494F4D55
    assert st["kvm_vm_ser"].field("version").fixed == 12 and st["kvm_vm_ser"].field("version").since == 2
    assert st["iommu_domain_ser"].field("pgd").custom == (
        "iommu_domain_preserve_tables", "iommu_domain_restore_tables")
    assert st["iommu_hw_ser"].field("reg_base").c_name == "phys_addr"
    gone = st["iommu_domain_ser"].field("restored_domain")
    assert gone.removed == 2 and gone.discard and gone.reason
    hooked = st["rb_cpu_meta_ser"].field("kaslr_addr")
    assert hooked.removed == 2 and not hooked.discard and "restore" in hooked.reason
    assert st["kvm_gmem_binding_ser"].field("from").py_name == "from_"
    binding = st["kvm_gmem_ser"].field("binding")
    assert binding.shape is None and binding.type.decl is st["kvm_gmem_binding_ser"]


def test_subsections_with_and_without_since(current):
    subs = {(s.name, sub.name): sub.since for s in current.states.values() for sub in s.subsections}
    assert subs[("rb_meta_ser", "trace_scratch_ser")] == 2
    assert subs[("kvm_vm_ser", "kvm_mem_attrs_ser")] is None
    assert current.states["trace_scratch_ser"].parent is current.states["rb_meta_ser"]
    assert [s.name for s in current.states["rb_meta_ser"].subsections_for(1)] == []


def test_guest_memfd_imports_memfd_and_reuses_its_folio_record(current):
    gmem = current.file("kvm/guest_memfd.kstate")
    assert gmem.imports == ("memfd.kstate",)
    folios = current.states["kvm_gmem_ser"].field("folios")
    assert isinstance(folios.type, m.StructType)
    assert folios.type.decl is current.structs["memfd_folio"]
    assert folios.type.decl.file.path == "memfd.kstate"
    # the file compiles alone: the import brings memfd.kstate in
    alone = kstate.load(SCHEMAS / "kvm" / "guest_memfd.kstate")
    assert "memfd_folio" in alone.structs and "kvm_gmem_ser" in alone.states


def test_several_states_have_a_real_version_history(current):
    evolved = [s for s in current.states.values() if s.version >= 2
               and any(not mem.is_bits and mem.since for mem in s.members)
               and any(not mem.is_bits and mem.removed for mem in s.members)]
    assert len(evolved) >= 4, [s.name for s in evolved]
    assert any(s.version == 3 for s in evolved)
    # min_version is raised somewhere, and kept low elsewhere
    assert current.states["iommu_device_ser"].min_version == 2
    assert current.states["reserve_mem_ser"].min_version == 1
    # a removed field is on the wire in some supported version
    for s in current.states.values():
        for mem in s.members:
            if not mem.is_bits and mem.removed is not None:
                assert mem.removed > s.min_version, (s.name, mem.name)


def test_layouts_per_version(current):
    names = lambda st, v: [n for n, _ in m.member_names(st.layout(v))]
    rm = current.states["reserve_mem_ser"]
    assert names(rm, 1) == ["name", "start", "size"]
    assert names(rm, 2) == ["name", "start", "size", "align", "head"]
    assert names(rm, 3) == ["name", "size", "align", "head"]
    cpu = current.states["rb_cpu_meta_ser"]
    assert names(cpu, 1)[0] == "kaslr_addr" and "nr_invalid" not in names(cpu, 1)
    assert names(cpu, 3)[-2:] == ["reader_page", "reader_hdr"]
    dev = current.states["iommu_device_ser"]
    assert list(dev.versions) == [2, 3]
    assert "ats_enabled" in names(dev, 2) and "ats_enabled" not in names(dev, 3)


def test_sample_stream_round_trips_through_the_codec(current):
    hdr = {"ref_count": 1, "flags": ["INCOMING"]}
    doc = {"entries": [
        {"state": "reserve_mem_ser", "instance_id": 0,
         "fields": {"name": "trace", "size": 1 << 21, "align": 4096, "head": 0x100000}},
        {"state": "reserve_mem_ser", "instance_id": 1, "version": 1,
         "fields": {"name": "old", "start": 0x200000, "size": 4096}},
        {"state": "iommu_flb_ser", "fields": {
            "units": [{"state": "iommu_hw_ser", "fields": {
                "hdr": hdr, "token": 0xFED90000, "type": "INTEL", "restored": False,
                "padding": "00" * 7, "reg_base": 0xFED90000, "root_table": 0x1000,
                "regs": [1, 2, 3, 4], "ctx_bitmap": "ff01", "inv_queue": 0x2000}}],
            "domains": [{"state": "iommu_domain_ser", "fields": {
                "hdr": hdr, "pgd": 0x3000, "top_level": 4, "sign_extend": 1,
                "dirty_tracking": 0, "nest_parent": 0, "vasz": 48}}],
            "devices": [{"state": "iommu_device_ser", "fields": {
                "hdr": hdr, "devid": 0x100, "pci_domain_nr": 0,
                "map": {"attachment_id": 7, "domain_index": 0, "unit_index": 0},
                "pasid_table": 0x4000, "max_pasid": 1 << 20, "id": 3}}]}},
        {"state": "kvm_vm_ser", "instance_id": 9, "fields": {
            "vm_type": "SNP_VM", "stats_id": "kvm-1234", "nr_vcpus": 4, "nr_gmem_files": 1,
            "memslots": [
                {"state": "kvm_memslots_ser", "fields": {"generation": 2, "slots": [
                    {"base_gfn": 0, "npages": 256, "userspace_addr": 0x7F0000000000,
                     "flags": ["GUEST_MEMFD"], "id": 0, "as_id": 0, "gmem_pgoff": 0}]}},
                {"state": "kvm_memslots_ser", "fields": {"generation": 1, "slots": []}}]},
         "subsections": [{"state": "kvm_mem_attrs_ser", "fields": {
             "ranges": [{"from": 0, "to": 128, "attributes": ["PRIVATE"]}]}}]},
        {"state": "kvm_gmem_ser", "instance_id": 1, "fields": {
            "size": 1 << 20, "flags": ["MMAP", "INIT_SHARED"], "vm_instance": 9,
            "folios": [{"pfn": 0x1234, "flags": 3, "index": 0}],
            "binding": {"state": "kvm_gmem_binding_ser", "fields": {"slot": 0, "from": 0x100, "pgoff": 0}}}},
        {"state": "rb_meta_ser", "fields": {
            "meta_size": 24, "cpu_meta_size": 40, "total_size": 1 << 20, "buffers_offset": 4096,
            "cpus": [
                {"state": "rb_cpu_meta_ser", "fields": {
                    "first_buffer": 0x10000, "head_buffer": 0x11000, "commit_buffer": 0x12000,
                    "subbuf_size": 4096, "nr_invalid": 0, "entry_bytes": 100, "buffers": [0, 1, 2],
                    "reader_page": 0x40, "reader_hdr": {"time_stamp": 99, "commit": 100,
                                                        "missed_stored": 0, "missed_events": 1}}},
                {"state": "rb_cpu_meta_ser", "version": 1, "fields": {
                    "kaslr_addr": 0x1000000, "first_buffer": 0, "head_buffer": 0,
                    "commit_buffer": 0, "subbuf_size": 4096, "buffers": []}}]},
         "subsections": [{"state": "trace_scratch_ser", "fields": {
             "clock_id": 1, "text_addr": 0xFFFFFFFF81000000,
             "entries": [{"mod_addr": 0xFFFFFFFFC0000000, "mod_name": "kvm_intel"}]}}]},
    ]}
    for byteorder in ("little", "big"):
        blob = current.encode(doc, byteorder=byteorder)
        out = current.decode(blob)
        assert out["diagnostics"] == []
        assert current.encode(out, byteorder=byteorder) == blob
        entries = out["entries"]
        assert [e["state"] for e in entries] == [
            "reserve_mem_ser", "reserve_mem_ser", "iommu_flb_ser", "kvm_vm_ser", "kvm_gmem_ser",
            "rb_meta_ser"]
        assert entries[1]["version"] == 1 and entries[1]["fields"]["start"] == 0x200000
        assert entries[4]["fields"]["binding"]["fields"]["from"] == 0x100
        assert entries[5]["fields"]["cpus"][1]["version"] == 1
        assert entries[5]["subsections"][0]["fields"]["entries"][0]["mod_name"] == "kvm_intel"


# --- the stored history ------------------------------------------------------


def test_history_snapshots_load_and_record_relative_paths(history):
    for rel, snap in history.items():
        raw = json.loads((HISTORY / f"{rel}.json").read_text())
        assert raw["format"] == "kstate-snapshot" and raw["format_version"] == 1
        # named relative to the schema root, whatever folder compiled them (docs/pipelines.md)
        assert all(f["display"] == f["path"] and not f["path"].startswith("schemas/") for f in raw["files"]), rel
        assert "/tmp" not in (HISTORY / f"{rel}.json").read_text()
        assert snap.states, rel


def test_history_snapshots_are_what_tools_history_compiles_to(tmp_path):
    """tools/make_history.sh --check, done in Python: each vN.json is the
    snapshot of tools/history/vN compiled as `schemas/` from a temp folder."""
    assert sorted(p.name for p in HISTORY_SRC.iterdir() if p.is_dir()) == RELEASES
    for rel in RELEASES:
        work = tmp_path / rel
        shutil.copytree(HISTORY_SRC / rel, work / "schemas")
        res = run_kstate("compile", "schemas", "--lang", "json", "-o", "out", cwd=work)
        assert res.returncode == 0 and res.stderr == "", res.stderr
        assert filecmp.cmp(work / "out/kstate-snapshot.json", HISTORY / f"{rel}.json", shallow=False), (
            f"schemas/history/{rel}.json is stale: run tools/make_history.sh {rel}")


def test_history_states_are_a_subset_by_id_of_the_current_set(history, current):
    known = {s.id: s.name for s in current.states.values()}
    known.update({r.id: r.name for r in current.retired.values()})
    for rel, snap in history.items():
        for st in snap.states.values():
            assert st.id in known, (rel, st.name)
            assert known[st.id] == st.name, (rel, st.name)  # no renames in this history
        for r in snap.retired.values():
            assert current.retired_by_id(r.id) is not None, (rel, r.name)


def test_versions_never_go_down(history, current):
    chain = [history[rel] for rel in RELEASES] + [current]
    for old, new in zip(chain, chain[1:]):
        for st in old.states.values():
            nxt = new.state_by_id(st.id)
            if nxt is None:
                assert new.retired_by_id(st.id) is not None
                continue
            assert nxt.version >= st.version, st.name
            assert nxt.min_version <= st.version, st.name  # each step keeps the update path
    # the history is not flat: something changed at each release
    assert any(history["v1"].states[n].version < history["v2"].states[n].version
               for n in history["v1"].states)
    assert any(history["v2"].states[n].version < current.states[n].version
               for n in history["v2"].states)


def layout_wires(state, version):
    return [(name, getattr(f, "wire", None) if not isinstance(f, m.BitsField) else ("bit", f.offset, f.width))
            for name, f in m.member_names(state.layout(version))]


def test_history_is_never_rewritten(history, current):
    """Every layout(u) that two releases both describe is the same, names and wire."""
    chain = [history[rel] for rel in RELEASES] + [current]
    for i, old in enumerate(chain):
        for new in chain[i + 1:]:
            for st in old.states.values():
                nxt = new.state_by_id(st.id)
                if nxt is None:
                    continue
                for u in set(st.versions) & set(nxt.versions):
                    assert layout_wires(st, u) == layout_wires(nxt, u), (st.name, u)


def test_each_release_updates_to_the_next_without_errors(history, current):
    chain = [history[rel] for rel in RELEASES] + [current]
    for old, new in zip(chain, chain[1:]):
        errors = [(f.rule, f.state) for f in old.check(new) if f.severity == "error"]
        assert errors == []


def test_skipping_a_release_is_cut_only_for_iommu_devices(history, current):
    """release 1 -> 3 directly: iommu_device_ser v1 streams are below min_version 2."""
    errors = sorted((f.rule, f.state) for f in history["v1"].check(current) if f.severity == "error")
    assert errors == [("MIN_VERSION_EXCLUDES_OLD", "iommu_device_ser")]
