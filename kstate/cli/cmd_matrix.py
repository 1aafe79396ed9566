"""Tabulate which live updates (row -> column, above the diagonal) and
rollbacks (below it) between N kernels' schemas are safe.

Each SIDE is what `kstate check` accepts: a .kstate file, a folder, a
snapshot JSON or git:REF[:PATH]; give them oldest first.  A cell is OK or the
number of error findings of that move; with --waivers a cell whose errors
are all waived reads "waived".  Exit 0 when the table was made, even
with unsafe cells (use `kstate check` to gate CI); 2 when a side cannot be
loaded.
"""

from __future__ import annotations

import sys



def add_arguments(p) -> None:
    from ..matrix import FORMATS

    p.add_argument("sides", nargs="+", metavar="SIDE", help="schemas of each kernel, oldest first")
    p.add_argument("--format", choices=sorted(FORMATS), default="text", help="output format (default: text)")
    p.add_argument("--waivers", metavar="FILE",
                   help="waiver file (as for kstate check): a cell whose errors are all waived reads 'waived' "
                        "(default: kstate.toml's [check] waivers)")


def run(args) -> int:
    from .. import config
    from ..checker.waivers import load_waivers
    from ..errors import UsageError
    from ..matrix import FORMATS, build_matrix
    from ..sides import load_side

    if len(args.sides) < 2:
        raise UsageError("matrix needs at least two sides")
    waiver_file = args.waivers or config.current().path_value("check", "waivers")
    waivers = load_waivers(waiver_file) if waiver_file else None
    sides = [(spec, load_side([spec])) for spec in args.sides]
    grid = build_matrix(sides, waivers)
    sys.stdout.write(FORMATS[args.format]([label for label, _ in sides], grid))
    return 0
