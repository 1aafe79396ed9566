#!/usr/bin/env python3
"""Benchmark the front end and the backends: compiling generated schema sets
of 10, 100 and 1,000 states (10,000 with ``--big``).

Each set is one shared file (a constant, an enum, a flags type, a struct
with a bits group) and one file per 10 states, each importing it, with its
own struct and states of 11 fields: scalars, an enum, flags ``@since(2)``, a
counted array of structs with ``@max``, a char array sized by the constant,
a fixed value, a field ``@removed(2, ...)``, a nested struct, doc comments,
and a subsection in every fifth state: versions 1 and 2 of each state are
laid out.

The phases are timed one after the other in one process: parse (reading the
files, following imports, the syntax trees), model (``build``: the typed
model and every rule), then each backend's ``render`` (python, c, json,
docs); compile is their sum.  The baseline, measured in the same run and
interleaved with kstate (rounds alternate which goes first), is lark's bare
LALR parse of the same files (``Lark(grammar, parser="lalr").parse``: a
parse tree, no positions, no callbacks), the least any lark front end does.
Times are CPU time (``time.process_time``) with the garbage collector on, as
it is for ``kstate.load``; each figure is the median of the rounds.

Printed per set and phase: microseconds per state, the ratio to the
baseline (median of the rounds' ratios, and their range), and the growth of
the time per state from the set ten times smaller (1.00: linear).  Then the
CPU time of the whole ``kstate compile`` command (a child process: start-up,
imports, writing the files) of each set.

    python tools/bench_compile.py [--rounds N] [--big] [--states N ...]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lark import Lark  # noqa: E402

from kstate.backends import available  # noqa: E402
from kstate.build import build  # noqa: E402
from kstate.loader import read_sources  # noqa: E402

PER_FILE = 10

COMMON = """\
// Shared types of the generated benchmark set.

/// Longest name a generated state carries.
const NAME_LEN = 16;

/// What a generated object is.
enum obj_kind : u8 {
    KIND_NONE = 0,
    KIND_FILE = 1,
    KIND_DEVICE = 2,
}

flags obj_flags : u32 {
    F_SEALED = 0x1,
    F_SHARED = 0x2,
    F_DIRTY  = 0x4,
}

/// One preserved page.
struct page_ref {
    bits u64 {
        pfn: 52;
        order: 12;
    }
    index: u64;
}
"""


def _state(group: int, i: int, sid: int, subsection: str | None) -> str:
    p = "x_" if i % 5 == 1 else ""  # a subsection's fields share its parent's C struct: other names
    lines = [f"/// Generated state g{group}_s{i}.",
             f"state g{group}_s{i} {{",
             f"    id = {sid};",
             "    version = 2;",
             "    min_version = 1;",
             "",
             "    /// Position in the object.",
             f"    {p}pos: u64;",
             f"    {p}size: u32;",
             f"    {p}kind: obj_kind;",
             f"    {p}flags: obj_flags @since(2);",
             f"    {p}nr_pages: u16 @max(1 << 10);",
             f"    {p}pages: page_ref[{p}nr_pages];",
             f"    {p}name: char[NAME_LEN];",
             f"    {p}cookie: u32 = 0x{sid:x};",
             f'    {p}legacy: u32 @removed(2, "folded into flags");',
             f"    {p}extra: g{group}_local;"]
    if subsection:
        lines.append(f"    subsection {subsection};")
    lines.append("}")
    return "\n".join(lines)


def schema_files(states: int) -> dict[str, str]:
    """``{file name: text}`` of a set of ``states`` states."""
    files = {"common.kstate": COMMON}
    sid, group, left = 100, 0, states
    while left:
        k = min(PER_FILE, left)
        items = ['import "common.kstate";',
                 f"struct g{group}_local {{\n    a: i32;\n    b: u8[4];\n    bits u16 {{ lo: 4; hi: 12; }}\n}}"]
        for i in range(k):
            sub = f"g{group}_s{i + 1}" if i % 5 == 0 and i + 1 < k else None
            items.append(_state(group, i, sid, sub))
            sid += 1
        files[f"g{group:05d}.kstate"] = "\n\n".join(items) + "\n"
        left -= k
        group += 1
    return files


def write_set(root: Path, states: int) -> Path:
    folder = root / f"s{states}"
    folder.mkdir()
    for name, text in schema_files(states).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _cpu(fn):
    gc.collect()
    t = time.process_time()
    value = fn()
    return time.process_time() - t, value


def kstate_phases(folder: Path, backends: dict) -> dict[str, float]:
    times = {}
    times["parse"], (sources, source_map) = _cpu(lambda: read_sources([str(folder)]))
    times["model"], schema_set = _cpu(lambda: build(sources, source_map))
    schema_set.sources = source_map
    for lang, mod in backends.items():
        times[lang], _ = _cpu(lambda: mod.render(schema_set))
    times["compile"] = sum(times.values())
    return times


def bare_parse(bare: Lark, texts: list[str]) -> float:
    return _cpu(lambda: [bare.parse(t) for t in texts])[0]


def measure(folder: Path, rounds: int, bare: Lark, backends: dict) -> tuple[dict, list[float]]:
    texts = [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.kstate"))]
    kstate_phases(folder, backends)  # warm: first-use work (templates, grammar) is not per state
    runs, base = [], []
    for r in range(rounds):
        if r % 2:
            b = bare_parse(bare, texts)
            k = kstate_phases(folder, backends)
        else:
            k = kstate_phases(folder, backends)
            b = bare_parse(bare, texts)
        runs.append(k)
        base.append(b)
    return {phase: [run[phase] for run in runs] for phase in runs[0]}, base


def command_cpu(folder: Path, out: Path, rounds: int) -> float:
    """Median CPU seconds (user + system) of ``kstate compile FOLDER -o OUT``."""
    times = []
    for _ in range(rounds):
        before = os.times()
        subprocess.run([sys.executable, "-m", "kstate", "compile", str(folder), "-o", str(out)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       cwd=folder.parent)
        after = os.times()
        times.append((after.children_user - before.children_user) + (after.children_system - before.children_system))
    return statistics.median(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds per set (default 5)")
    ap.add_argument("--big", action="store_true", help="also the set of 10,000 states (about a minute)")
    ap.add_argument("--states", type=int, action="append", help="measure only sets of this many states")
    ap.add_argument("--no-command", dest="command", action="store_false",
                    help="skip timing the kstate compile command")
    args = ap.parse_args(argv)
    sizes = args.states or [10, 100, 1000] + ([10_000] if args.big else [])
    grammar = resources.files("kstate").joinpath("grammar.lark").read_text(encoding="utf-8")
    bare = Lark(grammar, parser="lalr")
    backends = available()
    phases = ["parse", "model", *backends, "compile"]
    print("baseline: lark's bare LALR parse of the same files (parse tree, no positions, no callbacks), "
          "interleaved with kstate in the same run; CPU time, garbage collector on, medians of "
          f"{args.rounds} rounds")
    print(f"{'states':>7} {'phase':<8} {'us/state':>9} {'x baseline':>10} {'range':>11} {'growth/10x':>10}")
    per_state: dict[tuple[int, str], float] = {}
    with tempfile.TemporaryDirectory(prefix="kstate-bench-") as tmp:
        root = Path(tmp)
        folders = {n: write_set(root, n) for n in sizes}
        for n in sizes:
            rounds = max(3, args.rounds if n <= 1000 else args.rounds // 2)
            times, base = measure(folders[n], rounds, bare, backends)
            b = statistics.median(base)
            per_state[(n, "baseline")] = b / n
            print(f"{n:>7} {'baseline':<8} {b / n * 1e6:>9.0f} {1:>10.2f} {'':>11} "
                  f"{_growth(per_state, n, 'baseline'):>10}")
            for phase in phases:
                ratios = [t / bb for t, bb in zip(times[phase], base)]
                t = statistics.median(times[phase])
                per_state[(n, phase)] = t / n
                print(f"{n:>7} {phase:<8} {t / n * 1e6:>9.0f} {statistics.median(ratios):>10.2f} "
                      f"{min(ratios):>5.2f}-{max(ratios):<5.2f} {_growth(per_state, n, phase):>10}")
            print(f"{n:>7} compile in process: {statistics.median(times['compile']):.3f} s CPU "
                  f"(parse {statistics.median(times['parse']):.3f} s, baseline {b:.3f} s)")
        if args.command:
            print("\nkstate compile (the command: start-up, imports, writing the files), CPU seconds, "
                  "median of 3:")
            for n in sizes:
                cpu = command_cpu(folders[n], root / f"out{n}", 3)
                print(f"{n:>7} states: {cpu:.3f} s ({cpu / n * 1e3:.2f} ms per state)")
    return 0


def _growth(per_state: dict, n: int, phase: str) -> str:
    smaller = per_state.get((n // 10, phase))
    return f"{per_state[(n, phase)] / smaller:.2f}" if smaller else ""


if __name__ == "__main__":
    sys.exit(main())
