#!/usr/bin/env python3
"""Benchmark kstate's encoder against a hand-written struct.pack_into encoder.

The three memfd v3 documents of bench_decode.py (schemas/memfd.kstate,
little-endian): 1,000 entries x 16 folios; 1 entry x 1,000,000 folios;
5,000 small entries (no folios), each the decode document of its stream.
Both encoders produce the same bytes (checked).  Pairs of runs alternate
(kstate first, then hand first, ...); the script prints the median time of
each, the median and range of the pairs' ratios (goal: <= 1.5), and the peak
memory of each (tracemalloc, a separate run; goal: <= 1.2x).

    python tools/bench_encode.py [--pairs N] [--shape 0|1|2] [--schema schemas]
"""

from __future__ import annotations

import argparse
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import kstate  # noqa: E402
from benchlib import FOLIO, HDR, HEADING, MEMFD_HEAD, NAME, SHAPES, build_stream, interleaved, peak, row  # noqa: E402
from kstate.codec import codecs_for  # noqa: E402
from kstate.codec.decoder import decode_stream  # noqa: E402
from kstate.codec.encoder import encode_doc  # noqa: E402

SEALS = {"SEAL": 1, "SHRINK": 2, "GROW": 4, "WRITE": 8}
PFN_MAX, FLAGS_MAX, NR_MAX = (1 << 52) - 1, (1 << 12) - 1, 1 << 20
struct_magic, struct_eof = struct.Struct("<I"), struct.Struct("<i")


def hand_encode(doc) -> bytes:
    """The baseline: what a person writes with struct for this one schema, with the checks
    docs/wire-format.md and docs/cli.md ask of an encoder: the entry is this state's
    version, a count that is given agrees with its array (and @max), no field is extra
    or missing, every value fits (the bits their widths, the name its array, the
    integers their struct codes)."""
    entries = doc["entries"]
    size = 8
    for e in entries:
        size += 20 + 40 + 16 * len(e["fields"]["folios"])
    buf = bytearray(size)
    struct_magic.pack_into(buf, 0, 0x3B37778C)
    off = 4
    hdr, head, folio, name_s = HDR.pack_into, MEMFD_HEAD.pack_into, FOLIO.pack_into, NAME.pack_into
    for e in entries:
        if e["state"] != "memfd" or e.get("version", 3) != 3:
            raise ValueError("not memfd version 3")
        f = e["fields"]
        folios = f["folios"]
        n = len(folios)
        if f.get("nr_folios", n) != n or n > NR_MAX or len(f) != 5 + ("nr_folios" in f):
            raise ValueError("bad count, or a field missing or extra")
        hdr(buf, off, 2, 16, 3, e["instance_id"], 40 + 16 * n)
        seals = 0
        for s in f["seals"]:
            seals |= SEALS[s]
        head(buf, off + 20, f["pos"], f["size"], seals, n)
        o = off + 44
        for fo in folios:
            pfn, flags = fo["pfn"], fo["flags"]
            if not 0 <= pfn <= PFN_MAX or not 0 <= flags <= FLAGS_MAX or len(fo) != 3:
                raise ValueError("a folio's pfn or flags do not fit, or it has an extra field")
            folio(buf, o, pfn | flags << 52, fo["index"])
            o += 16
        name = f["name"].encode()
        if len(name) > 16 or b"\0" in name:
            raise ValueError("bad name")
        name_s(buf, o, name)
        off = o + 16
    struct_eof.pack_into(buf, off, -1)
    return bytes(buf)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=9, help="interleaved pairs per shape (default 9)")
    ap.add_argument("--schema", default=str(Path(__file__).resolve().parent.parent / "schemas"))
    ap.add_argument("--shape", type=int, choices=range(len(SHAPES)), action="append",
                    help="measure only this shape (0, 1, 2; repeatable)")
    args = ap.parse_args(argv)
    codecs = codecs_for(kstate.load(args.schema))
    print(HEADING)
    worst, worst_mem = 0.0, 0.0
    for label, entries, folios in [SHAPES[i] for i in args.shape] if args.shape else SHAPES:
        data = build_stream(entries, folios)
        doc = decode_stream(codecs, data)
        assert not doc["diagnostics"], doc["diagnostics"][:3]
        assert encode_doc(codecs, doc) == hand_encode(doc) == data, "the encoders disagree"
        pairs = max(3, args.pairs if folios < 100_000 else args.pairs // 2)
        t = interleaved(lambda: encode_doc(codecs, doc), lambda: hand_encode(doc), pairs)
        mk = peak(lambda: encode_doc(codecs, doc))
        mh = peak(lambda: hand_encode(doc))
        worst = max(worst, t["ratio"])
        if folios >= 100_000:  # the row the memory goal is for (the others are under 1 MiB)
            worst_mem = max(worst_mem, mk / mh)
        print(row(label, len(data), t, mk, mh))
    print(f"worst median ratio: {worst:.2f} (goal: <= 1.5); memory ratio, 1,000,000 folios: {worst_mem:.2f} (goal: <= 1.2; 0: not measured)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
