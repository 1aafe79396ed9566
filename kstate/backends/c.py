"""The ``c`` backend: one kernel-style header per schema file.

``c/<stem>.h`` holds the constants, enum/flags values, packed plain structs
(with ``static_assert``s on their wire layout) and state structs of one
schema file; in the kernel the ``struct kstate_description`` tables built on
the RFC's ``<linux/kstate.h>``, in userspace a bounds-checked reader and
writer for every state.  ``c/kstate_rt.h`` (written once) holds what every
header shares.  See docs/c-backend.md.
"""

from __future__ import annotations

from .. import model as m
from ..errors import UsageError
from ..templating import render as render_template
from .c_view import RT_HEADER, file_view, header_path

LANG = "c"
OWNS = "c"


def render(schema_set: m.SchemaSet) -> dict[str, str]:
    out = {f"c/{RT_HEADER}": render_template("c/kstate_rt.h.j2")}
    for sf in schema_set.files:
        if header_path(sf) in out:
            raise UsageError(f"{sf.display}: the C header {header_path(sf)} would replace the C runtime "
                             "header of the same name; rename the schema file")
        out[header_path(sf)] = render_template("c/header.h.j2", **file_view(schema_set, sf))
    return out
