"""What the benchmarks in tools/ share: the memfd v3 streams they measure, and
interleaved timing (this machine is shared and noisy, so a best-of-N of one
side against a best-of-N of the other swings; pairs run back to back,
alternating which goes first, and the median of the pairs' ratios is what
counts).  Times are CPU time of this process (``time.process_time``), which
other processes on a busy machine disturb far less than wall time; the
garbage collector is off while a run is timed.
"""

from __future__ import annotations

import gc
import statistics
import struct
import time
import tracemalloc

MEMFD_ID, MEMFD_VERSION = 16, 3
HDR = struct.Struct("<iiiii")
MEMFD_HEAD = struct.Struct("<QQII")
FOLIO = struct.Struct("<QQ")
NAME = struct.Struct("<16s")

#: (label, entries, folios per entry) of the three streams the issue measures
SHAPES = [("1,000 entries x 16 folios", 1000, 16), ("1 entry x 1,000,000 folios", 1, 1_000_000),
          ("5,000 small entries", 5000, 0)]


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


def _once(fn) -> float:
    gc.collect()
    gc.disable()
    try:
        t = time.process_time()
        fn()
        return time.process_time() - t
    finally:
        gc.enable()


def interleaved(kstate_fn, hand_fn, pairs: int, timed=_once) -> dict:
    """Run ``pairs`` (kstate, hand) pairs, alternating which runs first.

    ``timed(fn)`` is the seconds one run takes (default: this process's CPU
    time around ``fn()``).  Returns ``pair_stats`` of the times."""
    tk, th = [], []
    for i in range(pairs):
        if i % 2:
            b = timed(hand_fn)
            a = timed(kstate_fn)
        else:
            a = timed(kstate_fn)
            b = timed(hand_fn)
        tk.append(a)
        th.append(b)
    return pair_stats(tk, th)


def pair_stats(tk: list, th: list) -> dict:
    """The median time of each side of interleaved pairs, and the median,
    lowest and highest of the per-pair ratios kstate / hand."""
    ratios = [a / b for a, b in zip(tk, th)]
    return {"kstate": statistics.median(tk), "hand": statistics.median(th),
            "ratio": statistics.median(ratios), "low": min(ratios), "high": max(ratios)}


def peak(fn) -> int:
    """Peak bytes allocated while ``fn`` runs (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def row(label: str, size: int, t: dict, mk: int, mh: int) -> str:
    return (f"{label:<28} {size:>10} {t['kstate']:>10.4f} {t['hand']:>10.4f} {t['ratio']:>6.2f} "
            f"{t['low']:>5.2f}-{t['high']:<5.2f} {mk / 2**20:>10.1f} {mh / 2**20:>9.1f}")


HEADING = (f"{'shape':<28} {'bytes':>10} {'kstate s':>10} {'hand s':>10} {'ratio':>6} "
           f"{'range':>11} {'kstate MiB':>10} {'hand MiB':>9}")


def ratio_row(label: str, t: dict, width: int, digits: int) -> str:
    """One line of interleaved timings: both medians in milliseconds, the median ratio and its range."""
    return (f"{label:<{width}} {t['kstate'] * 1e3:>10.{digits}f} {t['hand'] * 1e3:>10.{digits}f} "
            f"{t['ratio']:>6.2f} {t['low']:>5.2f}-{t['high']:<5.2f}")
