"""The KSTATE stream codec (runtime).

* ``decode(schema_set, data, lenient=False) -> dict``: the decode document
  (docs/cli.md's JSON shape, plain Python values) with every diagnostic;
* ``encode(schema_set, doc, byteorder="little") -> bytes``: the stream back,
  or ``EncodeError`` naming the JSON path;
* ``from_generated(path)``: the same codecs from the generated Python package;
* ``Limits``: per-call overrides of the resource limits (``limits.py``).

``schema_set`` may be a ``SchemaSet`` (codecs are built in memory from its
model) or a ``CodecSet`` (for instance from ``from_generated``).  Both go
through one description (``describe.py``) and one runtime (``runtime.py``).
"""

from __future__ import annotations

from .limits import Limits
from .runtime import CodecSet, codecs_for, from_generated
from .views import ArrayView

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from .encoder import EncodeError  # noqa: F401

__all__ = ["decode", "encode", "ArrayView", "EncodeError", "CodecSet", "Limits", "codecs_for", "from_generated"]


def __getattr__(name: str):
    # the encoder (and its compiler) is imported when encoding needs it, not by every decode
    if name == "EncodeError":
        from .encoder import EncodeError

        return EncodeError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def decode(schema_set, data, lenient: bool = False, limits: Limits | None = None, arrays: str = "list") -> dict:
    """Decode a KSTATE stream; never raises on bad data (diagnostics say what is wrong).

    ``limits`` overrides the resource limits of ``kstate.codec.limits`` for this call.
    ``arrays="memoryview"``: long arrays of fixed-size, check-free elements are
    zero-copy ``ArrayView`` objects over ``data`` instead of lists (``views.py``)."""
    from .decoder import decode_stream

    return decode_stream(codecs_for(schema_set), data, lenient, limits, arrays)


def encode(schema_set, doc, byteorder: str | None = None, limits: Limits | None = None) -> bytes:
    """Encode a decode document into a stream (``byteorder`` None: the document's, else little)."""
    from .encoder import encode_doc

    return encode_doc(codecs_for(schema_set), doc, byteorder, limits)
