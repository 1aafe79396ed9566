"""kstate: schema compiler, codec and compatibility checker for KSTATE streams."""

from __future__ import annotations

from .errors import Diagnostic, KstateError, SchemaError, Span, UsageError
from .model import SchemaSet

__all__ = ["load", "SchemaSet", "Diagnostic", "KstateError", "SchemaError", "Span", "UsageError",
           "__version__"]
__version__ = "0.1.0"


def load(paths) -> SchemaSet:
    """Compile the schema set at ``paths`` (files, folders, or one snapshot JSON).

    Raises ``SchemaError`` (with every diagnostic) when it does not compile.
    """
    from .sides import load_side

    if isinstance(paths, (str, bytes)) or hasattr(paths, "__fspath__"):
        paths = [paths]
    return load_side([str(p) for p in paths])
