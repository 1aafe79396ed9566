"""kstate: schema compiler, codec and compatibility checker for KSTATE streams."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from .errors import Diagnostic, KstateError, SchemaError, Span, UsageError  # noqa: F401
    from .model import SchemaSet

__all__ = ["load", "SchemaSet", "Diagnostic", "KstateError", "SchemaError", "Span", "UsageError",
           "__version__"]
__version__ = "0.1.0"

# imported on first use (``kstate.Diagnostic``, ``from kstate import SchemaSet``), so that
# ``import kstate.cli`` and ``kstate --help`` stay cheap
_LAZY = {"Diagnostic": "errors", "KstateError": "errors", "SchemaError": "errors", "Span": "errors",
         "UsageError": "errors", "SchemaSet": "model"}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


def load(paths) -> SchemaSet:
    """Compile the schema set at ``paths`` (files, folders, or one snapshot JSON).

    Raises ``SchemaError`` (with every diagnostic) when it does not compile.
    """
    from .sides import load_side

    if isinstance(paths, (str, bytes)) or hasattr(paths, "__fspath__"):
        paths = [paths]
    return load_side([str(p) for p in paths])
