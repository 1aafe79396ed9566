"""The codec runtime: a ``CodecSet`` built from a codec description.

A description (``describe.py``) comes either from a schema set in memory
(``codecs_for(schema_set)``) or from the generated Python modules
(``from_generated(path)``).  The ``CodecSet`` answers what the stream decoder
and the encoder need: states by id and name, retired ids, the payload decoder
and payload encoder of each (state, version, byte order), compiled on first
use and cached.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from .compiler import Compiler
from .describe import describe, merge


class CodecSet:
    """Codecs for every version of every state of one description."""

    def __init__(self, desc: dict):
        self.desc = desc
        self.states: dict = desc["states"]
        self.enums: dict = desc["enums"]
        self.structs: dict = desc["structs"]
        self.by_id = {s["id"]: name for name, s in self.states.items()}
        self.retired_by_id = {i: name for name, i in desc["retired"].items()}
        self._compilers = {"little": Compiler(desc, "little"), "big": Compiler(desc, "big")}
        self._encoders: dict = {}
        self._prefixes: dict = {}

    def encoder(self, byteorder: str):
        """The ``EncoderCompiler`` of one byte order (the generated payload encoders)."""
        comp = self._encoders.get(byteorder)
        if comp is None:
            from .encoder_compiler import EncoderCompiler

            comp = self._encoders[byteorder] = EncoderCompiler(self.desc, byteorder)
        return comp

    def encoder_source(self, state: str, version: int, byteorder: str = "little") -> str | None:
        """The generated source of one payload encoder (size and pack), or None when that
        layout is left to the descriptive encoder."""
        comp = self.encoder(byteorder)
        comp.payload_encoder(state, version)
        return comp.sources.get((state, version))

    def compiler(self, byteorder: str, views: bool = False, fast: bool = False) -> Compiler:
        """The payload decoders of one byte order (``views``: those of ``arrays="memoryview"``;
        ``fast``: the stream loop's variant, see ``compiler.py``)."""
        if not views and not fast:
            return self._compilers[byteorder]
        key = (byteorder, views, fast)
        comp = self._compilers.get(key)
        if comp is None:
            comp = self._compilers[key] = Compiler(self.desc, byteorder, views=views, fast=fast)
        return comp

    def payload_decoder(self, state: str, version: int, byteorder: str, views: bool = False):
        return self.compiler(byteorder, views).payload_decoder(state, version)

    def prefix_decoder(self, state: str, version: int, n: int, byteorder: str, views: bool = False):
        """The payload decoder of the first ``n`` members of a layout (``partial.py``:
        lenient mode's fields decoded before an error)."""
        key = (byteorder, views)
        prefixes = self._prefixes.get(key)
        if prefixes is None:
            from .partial import PrefixDecoders

            prefixes = self._prefixes[key] = PrefixDecoders(self.desc, byteorder, views)
        return prefixes.decoder(state, version, n)

    def source(self, state: str, version: int, byteorder: str = "little") -> str:
        """The generated Python source of one payload decoder (for docs and debugging)."""
        c = self._compilers[byteorder]
        c.payload_decoder(state, version)
        return c.sources[(state, version)]

    def decode(self, data, lenient: bool = False, limits=None, arrays: str = "list") -> dict:
        from .decoder import decode_stream

        return decode_stream(self, data, lenient, limits, arrays)

    def encode(self, doc, byteorder: str | None = None, limits=None) -> bytes:
        from .encoder import encode_doc

        return encode_doc(self, doc, byteorder, limits)


def codecs_for(schema_set) -> CodecSet:
    """The CodecSet of a schema set, built in memory from the model (cached on the set)."""
    if isinstance(schema_set, CodecSet):
        return schema_set
    cached = schema_set.__dict__.get("_kstate_codecs")
    if cached is None:
        cached = CodecSet(describe(schema_set))
        schema_set.__dict__["_kstate_codecs"] = cached
    return cached


def from_descriptions(parts) -> CodecSet:
    return CodecSet(merge(parts))


_loaded = 0


def from_generated(package_path) -> CodecSet:
    """Load the generated package (``generated/python``) and build its CodecSet.

    The package is imported under a private name, so several generated
    packages (say, of two kernel versions) can be loaded side by side.
    """
    global _loaded
    path = Path(package_path)
    init = path / "__init__.py"
    if not init.is_file():
        from ..errors import UsageError

        raise UsageError(f"{path}: not a generated kstate Python package (no __init__.py)")
    _loaded += 1
    name = f"_kstate_generated_{_loaded}"
    spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(path)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return CodecSet(module.description())
