"""The cyclic garbage collector paused while the compiler builds.

A parse, the model build and each backend allocate many objects that
outlive them (tokens, nodes, spans, model objects, fragments of text) and
little garbage with cycles.  With the collector on, each of its full passes
walks every object alive, so the more states a set holds the more each pass
costs: the model phase of 1,000 states took 1.3x the time per state of 100,
and 4,000 states 1.9x (tools/bench_compile.py); with the collector paused it
is linear.  What garbage there is is collected once the collector is back on.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager


@contextmanager
def paused():
    """The collector off inside (as a ``with`` or a decorator); back on after
    if it was on before, so nested pauses leave it as they found it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
