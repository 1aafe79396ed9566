"""The ``c`` backend: one kernel-style header per schema file.

``c/<stem>.h`` holds the constants, enum/flags values, packed plain structs
(with ``static_assert``s on their wire layout) and state structs of one
schema file; in the kernel the ``struct kstate_description`` tables built on
the RFC's ``<linux/kstate.h>``, in userspace a bounds-checked reader and
writer for every state.  ``c/kstate_rt.h`` (written once) holds what every
header shares.  See docs/c-backend.md.
"""

from __future__ import annotations

from .. import collector
from .. import model as m
from ..errors import ERROR, Diagnostic, SchemaError, UsageError
from ..templating import render as render_template
from .c_view import RT_HEADER, code_states, file_view, header_path

LANG = "c"
OWNS = "c"


def _kernel_only_in_structs(schema_set: m.SchemaSet) -> list[Diagnostic]:
    """``folio`` and ``addr(...)`` members of plain structs: refused.

    A plain struct is one ``KS_BASE_TYPE`` run of bytes in the kernel tables
    (memcpy'd by the RFC's walk): nothing would preserve a folio with KHO or
    turn an address into its offset from the area and back.  Only a state's
    fields get that.
    """
    out = []
    for s in schema_set.structs.values():
        for _, f in m.member_names(s.members):
            if isinstance(f, m.Field) and isinstance(f.type, (m.FolioType, m.AddrType)):
                kind = "folio" if isinstance(f.type, m.FolioType) else f"addr({f.type.area})"
                out.append(Diagnostic(
                    "C_STRUCT_KERNEL_TYPE",
                    f"'{f.name}' is a {kind} inside plain struct '{s.name}': the kernel tables copy a "
                    "plain struct as bytes, so nothing would " +
                    ("preserve the folio with KHO" if kind == "folio" else
                     "turn the address into its offset from the area and back"),
                    f.span, ERROR,
                    (f"only fields of a state get {'KHO preservation' if kind == 'folio' else 'address conversion'}"
                     " in the kernel; the decoder and encoder read it as 8 bytes either way",),
                    help=f"make '{f.name}' a field of the state that uses struct {s.name}, "
                         f"or declare it 'u64' if the kernel need not {'preserve' if kind == 'folio' else 'convert'} it"))
    return out


@collector.paused()
def render(schema_set: m.SchemaSet) -> dict[str, str]:
    refused = _kernel_only_in_structs(schema_set)
    if refused:
        raise SchemaError(refused, schema_set.sources)
    out = {f"c/{RT_HEADER}": render_template("c/kstate_rt.h.j2")}
    code = code_states(schema_set)
    for sf in schema_set.files:
        if header_path(sf) in out:
            raise UsageError(f"{sf.display}: the C header {header_path(sf)} would replace the C runtime "
                             "header of the same name; rename the schema file")
        out[header_path(sf)] = render_template("c/header.h.j2", **file_view(schema_set, sf, code[sf]))
    return out
