"""``python -m kstate.explanations PAGE``: rewrite the generated part of PAGE
(docs/language.md) from the explanation sources; ``--check`` only says
whether it is current (exit 1 when not)."""

from __future__ import annotations

import sys
from pathlib import Path

from . import with_docs


def main(argv: list[str]) -> int:
    check = "--check" in argv
    pages = [a for a in argv if a != "--check"]
    if len(pages) != 1:
        print("usage: python -m kstate.explanations [--check] docs/language.md", file=sys.stderr)
        return 2
    page = Path(pages[0])
    old = page.read_text(encoding="utf-8")
    new = with_docs(old)
    if check:
        if new != old:
            print(f"{page}: the explanations are stale; run python -m kstate.explanations {page}",
                  file=sys.stderr)
            return 1
        return 0
    if new != old:
        page.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
