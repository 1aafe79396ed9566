#!/usr/bin/env python3
"""Benchmark kstate's decoder against a hand-written struct/iter_unpack decoder.

Three memfd-like streams (schemas/memfd.kstate, version 3, little-endian):
1,000 entries x 16 folios; 1 entry x 1,000,000 folios; 5,000 small entries
(no folios).  Both decoders produce the same Python values (checked).  Pairs
of runs alternate (kstate first, then hand first, ...); the script prints
the median time of each, the median and range of the pairs' ratios (goal:
<= 1.2), and the peak memory of each (tracemalloc, a separate run).  Then
``decode(..., arrays="memoryview")`` on the million-folio stream, against
the struct decoder and (if numpy is installed) a hand-written numpy view.

    python tools/bench_decode.py [--pairs N] [--shape 0|1|2] [--schema schemas]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import kstate  # noqa: E402
from benchlib import (FOLIO, HDR, HEADING, MEMFD_HEAD, MEMFD_ID, MEMFD_VERSION, SHAPES,  # noqa: E402
                      build_stream, interleaved, peak, row)
from kstate.codec import codecs_for  # noqa: E402
from kstate.codec.decoder import decode_stream  # noqa: E402

SEALS = ((1, "SEAL"), (2, "SHRINK"), (4, "GROW"), (8, "WRITE"))


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
    """The baseline: what a person writes with struct for this one schema, with the checks
    docs/wire-format.md asks of a reader (bounds, the count before the list is built, the
    state and version, each instance once)."""
    buf = memoryview(data)
    n = len(buf)
    if bytes(buf[:4]) != b"\x8c\x77\x37\x3b":
        raise ValueError("bad magic")
    off = 4
    entries = []
    seen = set()  # the instances so far (one state: its instance_id is the key)
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
        if inst in seen:
            raise ValueError("duplicate instance")
        seen.add(inst)
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=9, help="interleaved pairs per shape (default 9)")
    ap.add_argument("--shape", type=int, choices=range(len(SHAPES)), action="append",
                    help="measure only this shape (0, 1, 2; repeatable)")
    ap.add_argument("--schema", default=str(Path(__file__).resolve().parent.parent / "schemas"))
    ap.add_argument("--no-views", dest="views", action="store_false",
                    help="skip the arrays='memoryview' measurement")
    args = ap.parse_args(argv)
    codecs = codecs_for(kstate.load(args.schema))
    print(HEADING)
    worst = 0.0
    for label, entries, folios in [SHAPES[i] for i in args.shape] if args.shape else SHAPES:
        data = build_stream(entries, folios)
        doc = decode_stream(codecs, data)
        assert not doc["diagnostics"], doc["diagnostics"][:3]
        assert doc["entries"] == hand_decode(data), "the two decoders disagree"
        del doc
        pairs = max(3, args.pairs if folios < 100_000 else args.pairs // 2)
        t = interleaved(lambda: decode_stream(codecs, data), lambda: hand_decode(data), pairs)
        mk = peak(lambda: decode_stream(codecs, data))
        mh = peak(lambda: hand_decode(data))
        worst = max(worst, t["ratio"])
        print(row(label, len(data), t, mk, mh))
    print(f"worst median ratio: {worst:.2f} (goal: <= 1.2)")
    if args.views:
        views(codecs, args.pairs)
    return 0


def hand_numpy(data):
    """The baseline of a zero-copy decoder: the header by struct, the folios as a numpy view."""
    import numpy as np

    buf = memoryview(data)
    _, sid, version, inst, size = HDR.unpack_from(buf, 4)
    pos, fsize, seals, nr = MEMFD_HEAD.unpack_from(buf, 24)
    if sid != MEMFD_ID or version != MEMFD_VERSION or nr * 16 > size - 40:
        raise ValueError("bad entry")
    return np.frombuffer(buf, dtype=np.dtype([("word", "<u8"), ("index", "<u8")]), count=nr, offset=48)


def views(codecs, pairs: int) -> None:
    """decode(..., arrays="memoryview") on the 1,000,000-folio stream."""
    label, entries, folios = SHAPES[1]
    data = build_stream(entries, folios)
    fn = lambda: decode_stream(codecs, data, arrays="memoryview")  # noqa: E731
    print(f"\narrays='memoryview', {label}:")
    t = interleaved(fn, lambda: hand_decode(data), max(3, pairs // 2))
    print(f"  vs the hand-written struct decoder: kstate {t['kstate']:.6f} s, hand {t['hand']:.4f} s, "
          f"ratio {t['ratio']:.5f} ({t['low']:.5f}-{t['high']:.5f})")
    try:
        import numpy  # noqa: F401
    except ImportError:
        print("  (numpy is not installed: no numpy baseline)")
        return
    view = fn()["entries"][0]["fields"]["folios"]
    assert (view.numpy()["index"] == hand_numpy(data)["index"]).all()
    t = interleaved(fn, lambda: hand_numpy(data), pairs * 20)
    print(f"  vs a hand-written numpy view: kstate {t['kstate'] * 1e6:.0f} us, hand {t['hand'] * 1e6:.0f} us, "
          f"ratio {t['ratio']:.2f} ({t['low']:.2f}-{t['high']:.2f})")


if __name__ == "__main__":
    sys.exit(main())
