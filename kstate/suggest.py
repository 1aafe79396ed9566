""""Did you mean": the nearest known name to a misspelt one.

Used wherever a person names something kstate does not know: types,
annotations, constants, states, imports, waiver rules, JSON keys, enum and
flag names.  The distance is Damerau-Levenshtein (a swap of two neighbours
counts once), case-insensitive; a suggestion is made only when the
distance is at most a third of the name's length (at least 1), so `u23`
finds `u32` and `memdf` finds `memfd`, but `x` never becomes `y` (names of one or two
characters are matched only up to case).
"""

from __future__ import annotations

from typing import Iterable

MAX_CANDIDATES = 10_000  # beyond this the list is not a vocabulary: no suggestion


def distance(a: str, b: str) -> int:
    """Optimal string alignment distance between ``a`` and ``b``."""
    a, b = a.lower(), b.lower()
    if a == b:
        return 0
    prev2: list[int] | None = None
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if prev2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


def nearest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``word``, or None when none is close."""
    if not word or len(word) > 200:
        return None
    limit = max(1, len(word) // 3) if len(word) >= 3 else 0
    best: tuple[int, str] | None = None
    for n, cand in enumerate(candidates):
        if n >= MAX_CANDIDATES:
            break
        if cand == word or abs(len(cand) - len(word)) > limit:
            continue
        d = distance(word, cand)
        if d <= limit and (best is None or (d, cand) < best):
            best = (d, cand)
    return best[1] if best else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """``did you mean 'u32'?`` for a ``help:`` line, or None."""
    found = nearest(word, candidates)
    return f"did you mean '{found}'?" if found is not None else None
