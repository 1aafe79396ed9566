"""Zero-copy arrays: ``decode(..., arrays="memoryview")``.

A long array of fixed-size elements that need no check (integers,
addresses, folios, ``char[N]``, ``bytes``, plain structs of those, ``bits``
groups that use every bit) decodes to an ``ArrayView`` instead of a list:
a ``memoryview`` slice of the input and the element's ``struct`` format.
Nothing is unpacked until an element is asked for, so a million folios
decode in constant time.  Elements with a check (``bool``, enums and flags,
``bits`` with unused bits, ``@range``) stay lists, as do arrays of nested
states; so do fixed arrays of up to 16 elements and arrays inside plain
structs.

An ``ArrayView`` is a read-only ``Sequence``: ``len``, indexing and iteration
give exactly the values the list would hold, ``==`` compares with lists,
``tolist()`` builds the list, ``.raw`` is the bytes (a ``memoryview`` that
borrows the decoded buffer: keep the buffer open while a view is used),
and ``numpy()`` is a structured ``numpy`` array over the same bytes (numpy
is optional: ``pip install kstate[numpy]``); ``numpy_fields()`` splits
``bits`` groups into their fields with vectorized shifts.  ``encode``
accepts a view where a list goes; one of the same element layout is copied
as bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

_NUMPY = {"B": "u1", "b": "i1", "H": "u2", "h": "i2", "I": "u4", "i": "i4", "Q": "u8", "q": "i8"}


class Element:
    """How to read one element: its ``struct``, the function that builds its value
    from the unpacked tuple (None: the one integer itself), and its flat layout
    ``[(name, struct code, bits parts [(field, shift, mask)] or None)]`` for numpy."""

    __slots__ = ("struct", "build", "layout", "key")

    def __init__(self, s: struct.Struct, build, layout: list):
        self.struct = s
        self.build = build
        self.layout = tuple(layout)
        self.key = (s.format, tuple((name, code) for name, code, _ in layout))


class ArrayView(Sequence):
    """A decoded array whose elements stay in the input buffer until read."""

    __slots__ = ("raw", "element")

    def __init__(self, raw: memoryview, element: Element):
        self.raw = raw
        self.element = element

    @property
    def format(self) -> str:
        return self.element.struct.format

    @property
    def itemsize(self) -> int:
        return self.element.struct.size

    def __len__(self) -> int:
        return len(self.raw) // self.element.struct.size

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("ArrayView index out of range")
        el = self.element
        vals = el.struct.unpack_from(self.raw, i * el.struct.size)
        return el.build(*vals) if el.build else vals[0]

    def __iter__(self):
        el = self.element
        it = el.struct.iter_unpack(self.raw)
        if el.build is None:
            return (v[0] for v in it)
        build = el.build
        return (build(*v) for v in it)

    def __eq__(self, other):
        if isinstance(other, (list, ArrayView)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None

    def __repr__(self) -> str:
        return f"<ArrayView of {len(self)} element(s) of {self.format!r}>"

    def tolist(self) -> list:
        return list(self)

    def numpy(self):
        """A structured numpy array over the same bytes (no copy); a ``bits`` group is
        one integer field named like its diagnostics path (``{pfn, flags}``)."""
        import numpy as np

        order = self.format[0]
        fields = [(name, (f"S{code[:-1]}" if code.endswith("s") else order + _NUMPY[code]))
                  for name, code, _ in self.element.layout]
        if len(fields) == 1 and self.element.build is None:
            return np.frombuffer(self.raw, dtype=np.dtype(fields[0][1]))
        return np.frombuffer(self.raw, dtype=np.dtype(fields))

    def numpy_fields(self) -> dict:
        """Each field as a numpy array: the ``bits`` groups' fields shifted out."""
        arr = self.numpy()
        if arr.dtype.names is None:
            return {"": arr}
        out = {}
        for name, _, parts in self.element.layout:
            if parts is None:
                out[name] = arr[name]
                continue
            word = arr[name]
            for field, shift, mask in parts:
                out[field] = (word >> shift) & mask
        return out
