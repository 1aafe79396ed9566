#!/usr/bin/env python3
"""Differential fuzzing: the generated C reader and writer (under ASan/UBSan)
and the Python codec on the same inputs must agree.

Reader: seeds are valid streams of every bundled state (one entry of each
top-level state with all its subsections, at drawn versions, and
``kstate.testing.documents``), in both byte orders; each seed gives its
prefixes and random multi-byte mutations.  Every blob is read by both in
strict mode and in lenient mode (the C caller skips an entry its reader
refused and reads on: the C reader has no lenient mode of its own, its
framing errors end the stream), and compared:

* strict: accept/reject; the first error's code and byte offset (the
  offset ``kstate decode`` reports, field-level inside payloads and nested
  entries); the decoded values of every entry before it, and of all of them
  when both accept; the bytes after the EOF marker;
* lenient: for every entry the C caller read, the same first error (code and
  offset) or the same values; the framing error that ends the C reader is
  Python's first framing error.

The C reader reads one entry at a time and leaves set-level questions to its
caller (docs/wire-format.md, "The order of checks"): where Python's first
problem is ``UNKNOWN_STATE``, ``RETIRED_STATE``, ``UNKNOWN_SUBSECTION``,
``DUPLICATE_INSTANCE`` or ``LIMIT_EXCEEDED``, the C reader must only not fail
before that entry (strict), and that entry is not compared (lenient).  A
subsection Python keeps raw because its parent was not decoded is not
compared either.

Writer: random valid documents of every bundled state at the current
versions (what the C writer writes), both byte orders: the C writer's bytes
must be the Python encoder's.

Any sanitizer report is a failure.

    python tools/fuzz/diff_c_python.py [--seeds N] [--mutations N] [--writes N]
                                       [--random-schemas N] [--seed S]

Prints the executions per harness and every disagreement (first 20); exit 1
on any.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "c"))
sys.path.insert(0, str(ROOT))

import ksharness as kh  # noqa: E402

import kstate  # noqa: E402
from kstate import testing  # noqa: E402
from kstate.backends import c as c_backend  # noqa: E402

SET_LEVEL = {"UNKNOWN_STATE", "RETIRED_STATE", "UNKNOWN_SUBSECTION", "DUPLICATE_INSTANCE",
             "LIMIT_EXCEEDED"}
FRAMING = {"BAD_MAGIC", "MISSING_EOF", "BAD_SECTION_TYPE", "BAD_SIZE"}
BATCH = 200  # blobs per run of the C harness


# --- inputs ------------------------------------------------------------------------


def seed_streams(ss, count: int, seed: int) -> list[bytes]:
    """``count`` valid streams in each byte order: half one entry of every
    top-level state (all subsections, drawn versions), half drawn documents."""
    every = [{"entries": e} for e, _ in testing.examples(kh.streams(ss, any_version=True),
                                                           (count + 1) // 2, seed)]
    docs = testing.examples(testing.documents(ss), count // 2, seed + 1)
    return [ss.encode(d, byteorder=bo) for d in every + docs for bo in ("little", "big")]


def _frames(doc: dict) -> list[tuple[dict, list[dict]]]:
    """Every entry and nested state of a decoded seed, each with the frames
    around it (the entry, outer nested states), outermost first."""
    out: list = []

    def walk(value, chain):
        if isinstance(value, dict):
            if "state" in value and "size" in value and "offset" in value and "fields" in value:
                out.append((value, chain))
                chain = chain + [value]
                value = value["fields"]
            for v in value.values():
                walk(v, chain)
        elif isinstance(value, list):
            for v in value:
                walk(v, chain)

    for ent in _flat(doc):
        out.append((ent, []))
        walk(ent["fields"], [ent])
    return out


def _resized(rng: random.Random, seed: bytes, frames, bo: str) -> bytes:
    """``seed`` with one entry's or nested state's payload cut short or grown,
    every size around it fixed up: the framing holds and its layout meets a
    size it does not fit (TRUNCATED inside, BAD_NESTED_STATE, UNCONSUMED_BYTES)."""
    frame, chain = rng.choice(frames)
    start = frame["offset"] + 20
    b = bytearray(seed)
    if frame["size"] and rng.random() < 0.75:
        k = rng.randrange(frame["size"])
        del b[start + k:start + frame["size"]]
        delta = k - frame["size"]
    else:
        extra = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        b[start + frame["size"]:start + frame["size"]] = extra
        delta = len(extra)
    for f in [frame, *chain]:  # an outer frame's header comes before the cut: offsets hold
        b[f["offset"] + 16:f["offset"] + 20] = (f["size"] + delta).to_bytes(4, bo, signed=True)
    return bytes(b)


def mutations(rng: random.Random, seed: bytes, n: int, frames=(), bo: str = "little"):
    for k in range(0, len(seed) + 1, max(1, len(seed) // 24)):
        yield seed[:k]
    for _ in range(n):
        if frames and rng.random() < 0.4:
            b = bytearray(_resized(rng, seed, frames, bo))
            for _ in range(rng.randint(0, 3)):  # and a value or two
                i = rng.randrange(len(b))
                b[i] = rng.choice([0, 1, 2, 0x7f, 0x80, 0xff, rng.randrange(256)])
            yield bytes(b)
            continue
        b = bytearray(seed)
        for _ in range(rng.randint(1, 4)):
            if not b:
                break
            i = rng.randrange(len(b))
            choice = rng.random()
            if choice < 0.5:
                b[i] = rng.choice([0, 1, 2, 0x7f, 0x80, 0xff, rng.randrange(256)])
            elif choice < 0.7:
                del b[i:i + rng.randint(1, 8)]
            elif choice < 0.85:
                b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
            else:  # an i32 of the header words: sizes, ids, versions
                j = i - i % 4
                b[j:j + 4] = rng.choice([-1, 0, 1, 2, 3, 0x7fffffff, -2, len(b)]).to_bytes(
                    4, rng.choice(["little", "big"]), signed=True)
        yield bytes(b)


# --- the two sides' answers ---------------------------------------------------------


def _parse_c(block: list[str]) -> dict:
    """One blob's output of the harness's diff mode."""
    records, end = [], None
    for line in block:
        if line.startswith("at "):
            records.append({"offset": int(line[3:]), "lines": [], "fail": None})
        elif line.startswith("fail "):
            code, at = line.split()[1:]
            records[-1]["fail"] = (code, int(at[3:]))
        elif line.startswith("error "):
            code, at = line.split()[1:]
            end = ("error", code, int(at[3:]))
        elif line.startswith("eof "):
            end = ("eof", int(line.split("=")[1]))
        else:
            records[-1]["lines"].append(line)
    return {"records": records, "end": end}


def c_answers(exe: Path, mode: str, paths: list[Path]) -> list[dict]:
    out = kh.run(exe, "diff", mode, *map(str, paths))
    blocks = out.split("--\n")[:-1]
    assert len(blocks) == len(paths), (len(blocks), len(paths))
    return [_parse_c(b.splitlines()) for b in blocks]


def _flat(doc: dict) -> list[dict]:
    return [x for e in doc["entries"] for x in [e, *e.get("subsections", [])]]


def _path_of(ent: dict, parent: dict | None) -> str:
    own = ent["state"] or f"state {ent['state_id']}"
    if parent is not None:
        return f"{parent['state'] or 'state ' + str(parent['state_id'])}[instance {parent['instance_id']}]/{own}"
    return f"{own}[instance {ent['instance_id']}]"


def _first_errors(doc: dict) -> dict[int, dict]:
    """The first error diagnostic of each entry (by its offset): one inside
    its bytes, or at its end when it names a field (the field that did not fit)."""
    spans = [(x["offset"], x["offset"] + 20 + max(0, x["size"])) for x in _flat(doc)]
    first: dict[int, dict] = {}
    for d in doc["diagnostics"]:
        if d["severity"] != "error":
            continue
        for start, end in spans:
            if start <= d["offset"] < end or (d["offset"] == end and "." in d["path"]):
                first.setdefault(start, d)
                break
    return first


def _trailing(doc: dict) -> int:
    for d in doc["diagnostics"]:
        if d["code"] == "TRAILING_DATA":
            return doc["size"] - d["offset"]
    return 0


# --- comparisons ----------------------------------------------------------------------


def compare_strict(ss, doc: dict, c: dict) -> str | None:
    """None when the C reader agrees with the strict decode ``doc``; else what differs."""
    errors = [d for d in doc["diagnostics"] if d["severity"] == "error"]
    py = errors[0] if errors else None
    flat = _flat(doc)
    if py is not None and py["code"] == "UNCONSUMED_BYTES":  # kept with its fields: not decoded
        flat = [x for x in flat if not x["offset"] <= py["offset"] < x["offset"] + 20 + x["size"]]
    py_ok = {x["offset"]: kh.entry_lines(ss, x) for x in flat if "fields" in x}
    raw = {x["offset"] for x in flat if "raw" in x}
    c_fail = next(((r["offset"], *r["fail"]) for r in c["records"] if r["fail"]), None)
    if c_fail is None and c["end"][0] == "error":
        c_fail = (c["end"][2], *c["end"][1:])
    limit = None
    if py is None:
        if c_fail is not None:
            return f"python accepts, C fails {c_fail[1]} at {c_fail[2]}"
        if c["end"] != ("eof", _trailing(doc)):
            return f"trailing bytes: python {_trailing(doc)}, C {c['end']}"
    elif py["code"] in SET_LEVEL:
        if c_fail is not None and c_fail[0] < py["offset"]:
            return f"python {py['code']} at {py['offset']}, C fails {c_fail[1]} at {c_fail[2]} before it"
        limit = py["offset"]
    else:
        if c_fail is None or c_fail[1:] != (py["code"], py["offset"]):
            got = "accepts" if c_fail is None else f"{c_fail[1]} at {c_fail[2]}"
            return f"python {py['code']} at {py['offset']} ({py['path']}), C {got}"
    for r in c["records"]:
        if r["fail"] or r["offset"] in raw or (limit is not None and r["offset"] >= limit):
            continue
        if r["lines"] != py_ok.get(r["offset"]):
            return f"values of the entry at {r['offset']}: python {py_ok.get(r['offset'])}, C {r['lines']}"
    return None


def compare_lenient(ss, doc: dict, c: dict) -> str | None:
    """None when every entry the C caller read agrees with the lenient decode ``doc``."""
    by_off = {x["offset"]: x for x in _flat(doc)}
    first = _first_errors(doc)
    for r in c["records"]:
        ent = by_off.get(r["offset"])
        if ent is None:
            return f"C read an entry at {r['offset']} that python did not"
        d = first.get(r["offset"])
        if d is not None and d["code"] in SET_LEVEL or d is None and "fields" not in ent:
            continue
        if d is not None:
            if r["fail"] != (d["code"], d["offset"]):
                return (f"entry at {r['offset']}: python {d['code']} at {d['offset']} ({d['path']}), "
                        f"C {r['fail'] or 'accepts'}")
        elif r["fail"]:
            return f"entry at {r['offset']}: python accepts, C {r['fail']}"
        elif r["lines"] != kh.entry_lines(ss, ent):
            return f"values of the entry at {r['offset']}: python {kh.entry_lines(ss, ent)}, C {r['lines']}"
    # the framing's errors: a header's (path the entry's, no field in it) or the stream's
    framing = [d for d in doc["diagnostics"] if d["severity"] == "error" and "." not in d["path"]
               and (d["code"] in FRAMING or d["code"] == "TRUNCATED")
               and (d["path"] == "" or d["offset"] in by_off)]
    if any(d["code"] == "LIMIT_EXCEEDED" and d["path"] == "" for d in doc["diagnostics"]):
        return None
    want = ("eof", _trailing(doc)) if not framing else ("error", framing[0]["code"], framing[0]["offset"])
    if c["end"] != want:
        return f"the stream's end: python {want}, C {c['end']}"
    return None


# --- the runs ---------------------------------------------------------------------------


def build(ss, tmp: Path) -> Path:
    gen = tmp / "gen"
    for rel, text in c_backend.render(ss).items():
        (gen / rel).parent.mkdir(parents=True, exist_ok=True)
        (gen / rel).write_text(text)
    return kh.build_harness(ss, gen / "c", tmp / "harness")


def _check_batch(ss, exe: Path, tmp: Path, blobs: list[bytes], bad: list, stats: Counter) -> None:
    paths = []
    for i, blob in enumerate(blobs):
        paths.append(tmp / f"b{i}.bin")
        paths[-1].write_bytes(blob)
    for mode, compare in (("strict", compare_strict), ("lenient", compare_lenient)):
        try:
            answers = c_answers(exe, mode, paths)
        except AssertionError:  # a sanitizer report (or a crash): find the blob
            answers = []
            for p, blob in zip(paths, blobs):
                try:
                    answers += c_answers(exe, mode, [p])
                except AssertionError as err:
                    bad.append((mode, f"sanitizer: {str(err)[-400:]}", blob.hex()))
                    answers.append(None)
        for blob, c in zip(blobs, answers):
            stats[mode] += 1
            if c is None:
                continue
            doc = ss.decode(blob, lenient=mode == "lenient")
            if mode == "strict":
                errors = [d for d in doc["diagnostics"] if d["severity"] == "error"]
                where = "" if not errors else " field" if "." in errors[0]["path"] else " header"
                stats["first " + (errors[0]["code"] + where if errors else "accepted")] += 1
            why = compare(ss, doc, c)
            if why is not None:
                bad.append((mode, why, blob.hex()))


def run_reader(ss, exe: Path, tmp: Path, seeds: int, per_seed: int, seed: int) -> tuple[Counter, list]:
    rng = random.Random(seed)
    stats: Counter = Counter()
    bad: list = []
    batch: list[bytes] = []
    for base in seed_streams(ss, seeds, seed):
        doc = ss.decode(base)
        for blob in mutations(rng, base, per_seed, _frames(doc), doc["byteorder"]):
            batch.append(blob)
            if len(batch) == BATCH:
                _check_batch(ss, exe, tmp, batch, bad, stats)
                batch = []
    if batch:
        _check_batch(ss, exe, tmp, batch, bad, stats)
    return stats, bad


def run_writer(ss, exe: Path, tmp: Path, count: int, seed: int) -> tuple[int, list]:
    """The C writer and the Python encoder on ``count`` random documents, each in both byte orders."""
    execs, bad = 0, []
    out = tmp / "w.bin"
    for entries, lines in testing.examples(kh.streams(ss, any_version=False), count, seed):
        for bo in ("little", "big"):
            want = ss.encode({"entries": entries}, byteorder=bo)
            res = kh.run(exe, "write", bo, str(out), input=kh.write_tokens(ss, lines))
            execs += 1
            got = out.read_bytes() if res.startswith("ok ") else res.strip()
            if got != want:
                bad.append(("write", f"{bo}: C {got if isinstance(got, str) else got.hex()}", want.hex()))
    return execs, bad


def _schema_sets(tmp: Path, schemas: Path, random_schemas: int, seed: int):
    """The bundled schema set, then ``random_schemas`` drawn ones (``kstate.testing.schema_texts``)."""
    yield "schemas", kstate.load(schemas)
    for k, text in enumerate(testing.examples(testing.schema_texts(), random_schemas, seed)
                             if random_schemas else []):
        d = tmp / f"random{k}"
        d.mkdir()
        (d / "s.kstate").write_text(text)
        yield f"random{k}", kstate.load(d)


def run(seeds: int, per_seed: int, seed: int, writes: int = 0, schemas: Path = ROOT / "schemas",
        random_schemas: int = 0) -> tuple[Counter, list]:
    """Executions per harness (strict, lenient, write) and the disagreements, over
    the bundled schemas and ``random_schemas`` drawn schema sets."""
    stats: Counter = Counter()
    bad: list = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, ss in _schema_sets(tmp, schemas, random_schemas, seed):
            work = tmp / f"{name}.work"
            work.mkdir()
            exe = build(ss, work)
            st, sbad = run_reader(ss, exe, work, seeds, per_seed, seed)
            stats += st
            bad += [(f"{name} {mode}", why, hx) for mode, why, hx in sbad]
            if writes:
                n, wbad = run_writer(ss, exe, work, writes, seed)
                stats["write"] += n
                bad += [(f"{name} {mode}", why, hx) for mode, why, hx in wbad]
    return stats, bad


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=6, help="valid streams per byte order")
    ap.add_argument("--mutations", type=int, default=100, help="mutated blobs per seed stream")
    ap.add_argument("--writes", type=int, default=20, help="documents for the writer, per byte order")
    ap.add_argument("--random-schemas", type=int, default=0,
                    help="drawn schema sets (kstate.testing.schema_texts) after the bundled one")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    stats, bad = run(a.seeds, a.mutations, a.seed, a.writes, random_schemas=a.random_schemas)
    print(f"reader strict: {stats['strict']} blobs, reader lenient: {stats['lenient']} blobs, "
          f"writer: {stats['write']} documents; {len(bad)} disagreements")
    print("python's first diagnostic (strict): " + ", ".join(
        f"{k[6:]} {v}" for k, v in sorted(stats.items(), key=lambda kv: -kv[1]) if k.startswith("first ")))
    for mode, why, hx in bad[:20]:
        print(f"  {mode}: {why}\n    {hx[:200]}")
    print(Counter((mode, why.split(" at ")[0]) for mode, why, _ in bad).most_common(10))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
