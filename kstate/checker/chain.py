"""Chains of sides: ``kstate check A B C`` checks each neighbouring pair
(oldest first); ``--transitive`` checks every older side against every newer
one.  Each finding names its pair in ``old_side``/``new_side``, and is
annotated in a working-tree file (``locations.py``).
"""

from __future__ import annotations

from .. import model as m
from . import check
from .finding import Finding, sort_findings
from .locations import locate


def pairs(n: int, transitive: bool) -> list[tuple[int, int]]:
    if transitive:
        return [(i, j) for i in range(n) for j in range(i + 1, n)]
    return [(i, i + 1) for i in range(n - 1)]


def check_chain(sides: list[tuple[str, m.SchemaSet]], direction: str = "update",
                transitive: bool = False) -> list[Finding]:
    out: list[Finding] = []
    for k, (i, j) in enumerate(pairs(len(sides), transitive)):
        (old_label, old), (new_label, new) = sides[i], sides[j]
        found = [f.with_sides(old_label, new_label, k) for f in check(old, new, direction)]
        out.extend(locate(found, sides[i], sides[j]))
    return sort_findings(out)
