"""The jinja2 environment shared by every backend.

Templates hold layout only: they get precomputed views from the backends and
do no arithmetic or semantics.  ``StrictUndefined`` makes a missing value an
error instead of an empty string.
"""

from __future__ import annotations

from functools import lru_cache

import jinja2


@lru_cache(maxsize=None)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("kstate", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["lines"] = lines
    return env


def lines(items: list[str], indent: str = "") -> str:
    """``{{ body | lines("\\t") }}``: each line on its own line after
    ``indent``, an empty line empty (no trailing whitespace).  The same text as
    a ``{% for %}`` over the lines, without a fragment per line."""
    return "".join(f"{indent}{line}\n" if line else "\n" for line in items)


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**context)
