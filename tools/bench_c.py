#!/usr/bin/env python3
"""Benchmark the generated C reader and writer against memcpy of the same bytes.

The C headers of schemas/memfd.kstate are generated from this checkout (in
memory, into a temporary folder) and built with ``gcc -O2`` (userspace mode)
into one program that holds a memfd state of 1,000,000 folios (a 16 MB
stream).  In interleaved pairs (alternating which goes first) it times:

* the reader: ``ks_reader_init`` + ``ks_reader_next`` + ``memfd_ks_read``
  of the whole stream (its folio array from a ``struct ks_arena``), against
  ``memcpy`` of the stream's bytes;
* the writer: ``ks_writer_init`` + ``memfd_ks_write`` + ``ks_writer_finish``,
  against ``memcpy`` of the same number of bytes;

in little-endian (this machine's order) and big-endian streams.  Times are
the program's CPU time (``CLOCK_PROCESS_CPUTIME_ID``); the script prints the
median time of each side, and the median and range of the pairs' ratios
(goal: <= 1.5 for the reader and the writer).  Before timing, the program's
little-endian stream is checked to be the bytes tools/benchlib.py writes by
hand with ``struct`` (the Python side's stream), and the read-back folios to
equal the written ones.

    python tools/bench_c.py [--pairs N] [--folios N] [--cc gcc]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import kstate  # noqa: E402
from benchlib import build_stream, pair_stats, ratio_row  # noqa: E402
from kstate.backends import c as c_backend  # noqa: E402

PROGRAM = r"""
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "memfd.h"

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static struct memfd src, dst;
static unsigned char *stream, *copy, *store;
static size_t cap, len, store_cap;

static void fail(const char *what, int err)
{
	fprintf(stderr, "%s: %s\n", what, ks_strerror(err));
	exit(1);
}

static size_t write_stream(enum ks_byteorder order)
{
	struct ks_writer w;
	int err;

	ks_writer_init(&w, stream, cap, order);
	err = memfd_ks_write(&w, &src, 0);
	if (!err)
		err = ks_writer_finish(&w);
	if (err)
		fail("write", err);
	return w.len;
}

static void read_stream(void)
{
	struct ks_reader r;
	struct ks_entry e;
	struct ks_arena arena;
	int err, n;

	ks_arena_init(&arena, store, store_cap);
	err = ks_reader_init(&r, stream, len);
	if (err)
		fail("reader_init", err);
	n = ks_reader_next(&r, &e);
	if (n != 1)
		fail("reader_next", n);
	err = memfd_ks_read(&e, &dst, &arena);
	if (err)
		fail("read", err);
	if (ks_reader_next(&r, &e) != 0)
		fail("eof", KS_ERR_MISSING_EOF);
}

static void copy_stream(void)
{
	memcpy(copy, stream, len);
	__asm__ volatile("" : : "r"(copy) : "memory");
}

/* one timed run of fn */
static double timed(void (*fn)(void))
{
	double t = cpu_now();

	fn();
	return cpu_now() - t;
}

/* one pair: fn and memcpy, the pair's k-th (odd: memcpy first); prints both times */
static void pair(const char *order, const char *side, void (*fn)(void), int k)
{
	double a, b;

	if (k & 1) {
		b = timed(copy_stream);
		a = timed(fn);
	} else {
		a = timed(fn);
		b = timed(copy_stream);
	}
	printf("%s %s %.9f %.9f\n", order, side, a, b);
}

static enum ks_byteorder order;

static void writer(void)
{
	len = write_stream(order);
	__asm__ volatile("" : : "r"(stream) : "memory");
}

int main(int argc, char **argv)
{
	unsigned long folios = strtoul(argv[1], NULL, 0);
	int pairs = atoi(argv[2]);
	unsigned long i;
	int o, k;

	src.pos = 0;
	src.size = folios * 4096;
	src.seals = 0x5;
	src.nr_folios = (u32)folios;
	memcpy(src.name, "memfd-0", 8);
	memset(src.name + 8, 0, 8);
	src.folios = calloc(folios ? folios : 1, sizeof(*src.folios));
	for (i = 0; i < folios; i++) {
		src.folios[i].pfn = i & ((1ULL << 52) - 1);
		src.folios[i].flags = i % 4096;
		src.folios[i].index = i;
	}
	cap = 64 + 16 * folios + 64;
	store_cap = 16 * folios + 64;
	stream = malloc(cap);
	copy = malloc(cap);
	store = malloc(store_cap);
	/* touch every page before timing */
	memset(stream, 1, cap);
	memset(copy, 1, cap);
	memset(store, 1, store_cap);
	len = write_stream(KS_LITTLE);
	if (argc > 3) {
		FILE *f = fopen(argv[3], "wb");

		if (!f || fwrite(stream, 1, len, f) != len || fclose(f))
			return 1;
	}
	for (o = 0; o < 2; o++) {
		order = o ? KS_BIG : KS_LITTLE;
		len = write_stream(order);
		memset(&dst, 0, sizeof(dst));
		read_stream();
		if (dst.nr_folios != src.nr_folios || dst.seals != src.seals || dst.size != src.size ||
		    (folios && memcmp(dst.folios, src.folios, folios * sizeof(*src.folios))))
			fail("read back", KS_ERR_BAD_VALUE);
		for (k = 0; k < pairs; k++) {
			pair(o ? "big" : "little", "reader", read_stream, k);
			pair(o ? "big" : "little", "writer", writer, k);
		}
	}
	return 0;
}
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=101, help="interleaved pairs per row (default 101)")
    ap.add_argument("--folios", type=int, default=1_000_000, help="folios in the stream (default 1,000,000)")
    ap.add_argument("--cc", default="gcc", help="C compiler (default gcc)")
    args = ap.parse_args(argv)
    ss = kstate.load(ROOT / "schemas" / "memfd.kstate")
    with tempfile.TemporaryDirectory(prefix="kstate-bench-c-") as tmp:
        tmp = Path(tmp)
        for rel, text in c_backend.render(ss).items():
            p = tmp / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)
        (tmp / "bench.c").write_text(PROGRAM)
        exe = tmp / "bench"
        subprocess.run([args.cc, "-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror",
                        "-I", str(tmp / "c"), "-o", str(exe), str(tmp / "bench.c")], check=True)
        res = subprocess.run([str(exe), str(args.folios), str(args.pairs), str(tmp / "le.bin")],
                             capture_output=True, text=True)
        if res.returncode:
            raise SystemExit(f"the benchmark program failed: {res.stderr}")
        if (tmp / "le.bin").read_bytes() != build_stream(1, args.folios):
            raise SystemExit("the C writer's stream differs from benchlib.build_stream's")
    times: dict = {}
    for line in res.stdout.splitlines():
        order, side, a, b = line.split()
        times.setdefault((side, order), ([], []))
        times[(side, order)][0].append(float(a))
        times[(side, order)][1].append(float(b))
    print(f"{'generated C, ' + format(args.folios, ',') + ' folios, -O2':<36} {'C ms':>10} {'memcpy ms':>10} "
          f"{'ratio':>6} {'range':>11}")
    for (side, order), (tk, th) in sorted(times.items(), key=lambda kv: (kv[0][0] != "reader", kv[0][1] != "little")):
        print(ratio_row(f"{side}, {order}-endian", pair_stats(tk, th), 36, 2))
    print("goal: reader and writer <= 1.5x memcpy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
