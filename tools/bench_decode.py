#!/usr/bin/env python3
"""Benchmark kstate's decoder against a hand-written struct/iter_unpack decoder.

Three memfd-like streams (schemas/memfd.kstate, version 3, little-endian):
1,000 entries x 16 folios; 1 entry x 1,000,000 folios; 5,000 small entries
(no folios).  Both decoders produce the same Python values (checked); the
script prints the best-of-N time of each, their ratio (goal: <= 1.5), and
the peak memory of each measured with tracemalloc in a separate run.

    python tools/bench_decode.py [--repeat N] [--schema schemas]
"""

from __future__ import annotations

import argparse
import gc
import struct
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kstate  # noqa: E402
from kstate.codec import codecs_for  # noqa: E402
from kstate.codec.decoder import decode_stream  # noqa: E402

MEMFD_ID, MEMFD_VERSION = 16, 3
SEALS = ((1, "SEAL"), (2, "SHRINK"), (4, "GROW"), (8, "WRITE"))
HDR = struct.Struct("<iiiii")
MEMFD_HEAD = struct.Struct("<QQII")
FOLIO = struct.Struct("<QQ")


def build_stream(entries: int, folios: int) -> bytes:
    """A memfd v3 stream, written by hand with struct."""
    out = bytearray(struct.pack("<I", 0x3B37778C))
    folio_bytes = b"".join(FOLIO.pack((i & ((1 << 52) - 1)) | ((i % 4096) << 52), i) for i in range(folios))
    for inst in range(entries):
        payload = (MEMFD_HEAD.pack(inst * 4096, folios * 4096, 0x5, folios) + folio_bytes
                   + f"memfd-{inst}".encode().ljust(16, b"\0"))
        out += HDR.pack(2, MEMFD_ID, MEMFD_VERSION, inst, len(payload)) + payload
    out += struct.pack("<i", -1)
    return bytes(out)


def _seals(v: int) -> list:
    out = [n for bit, n in SEALS if v & bit]
    rest = v & ~0xF
    if rest:
        out.append(rest)
    return out


def _name(raw: bytes):
    nul = raw.find(b"\0")
    text, rest = (raw, b"") if nul < 0 else (raw[:nul], raw[nul:])
    if rest.strip(b"\0"):
        return {"bytes": raw.hex()}
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        return {"bytes": raw.hex()}


def hand_decode(data) -> list:
    """The baseline: what a person writes with struct for this one schema (with bounds checks)."""
    buf = memoryview(data)
    n = len(buf)
    if bytes(buf[:4]) != b"\x8c\x77\x37\x3b":
        raise ValueError("bad magic")
    off = 4
    entries = []
    hdr, head, folio_iter = HDR.unpack_from, MEMFD_HEAD.unpack_from, FOLIO.iter_unpack
    mask = (1 << 52) - 1
    while True:
        if n - off < 4:
            raise ValueError("truncated")
        stype, sid, version, inst, size = hdr(buf, off) if n - off >= 20 else (-1, 0, 0, 0, 0)
        if stype == -1:
            break
        p = off + 20
        end = p + size
        if size < 0 or end > n or sid != MEMFD_ID or version != MEMFD_VERSION or end - p < 24:
            raise ValueError("bad entry")
        pos, fsize, seals, nr = head(buf, p)
        q = p + 24
        if nr > (1 << 20) or nr * 16 > end - q:
            raise ValueError("bad count")
        folios = [{"pfn": a & mask, "flags": a >> 52 & 0xFFF, "index": b}
                  for a, b in folio_iter(buf[q:q + nr * 16])]
        q += nr * 16
        if end - q != 16:
            raise ValueError("bad size")
        fields = {"pos": pos, "size": fsize, "seals": _seals(seals), "nr_folios": nr,
                  "folios": folios, "name": _name(bytes(buf[q:q + 16]))}
        entries.append({"section": "section", "state": "memfd", "state_id": sid, "version": version,
                        "instance_id": inst, "offset": off, "size": size, "fields": fields,
                        "subsections": []})
        off = end
    return entries


def best_time(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            t = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t)
        finally:
            gc.enable()
    return best


def peak(fn) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--schema", default=str(Path(__file__).resolve().parent.parent / "schemas"))
    args = ap.parse_args(argv)
    codecs = codecs_for(kstate.load(args.schema))
    shapes = [("1,000 entries x 16 folios", 1000, 16), ("1 entry x 1,000,000 folios", 1, 1_000_000),
              ("5,000 small entries", 5000, 0)]
    print(f"{'shape':<28} {'bytes':>10} {'kstate s':>10} {'hand s':>10} {'ratio':>6} "
          f"{'kstate MiB':>11} {'hand MiB':>9}")
    worst = 0.0
    for label, entries, folios in shapes:
        data = build_stream(entries, folios)
        doc = decode_stream(codecs, data)
        assert not doc["diagnostics"], doc["diagnostics"][:3]
        assert doc["entries"] == hand_decode(data), "the two decoders disagree"
        del doc
        repeat = max(2, args.repeat if folios < 100_000 else args.repeat // 2)
        tk = best_time(lambda: decode_stream(codecs, data), repeat)
        th = best_time(lambda: hand_decode(data), repeat)
        mk = peak(lambda: decode_stream(codecs, data))
        mh = peak(lambda: hand_decode(data))
        ratio = tk / th
        worst = max(worst, ratio)
        print(f"{label:<28} {len(data):>10} {tk:>10.4f} {th:>10.4f} {ratio:>6.2f} "
              f"{mk / 2**20:>11.1f} {mh / 2**20:>9.1f}")
    print(f"worst ratio: {worst:.2f} (goal: <= 1.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
