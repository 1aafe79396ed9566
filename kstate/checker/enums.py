"""Enum and flags values: every value the writer may put in a field must mean
the same to the reader (model rule 4).

Values are compared per field that carries the enum (a path names a plain
struct member).  A name whose value moved is ``ENUM_VALUE_CHANGED`` (and not
also removed/added); a value whose name is gone and has no other name is
``ENUM_VALUE_REMOVED``; a value the reader names that the writer does not
know is ``ENUM_VALUE_ADDED``.  A value renamed (same value, another name)
keeps its meaning on the wire and is silent.
"""

from __future__ import annotations

from .. import model as m
from . import edits
from .context import Model


def compare_enum(model: Model, st: m.State, path: str, version: int, eo: m.Enum, en: m.Enum) -> None:
    old_names = eo.by_name
    new_names = en.by_name
    new_values = {v.value for v in en.values}
    old_values = {v.value for v in eo.values}
    W, R = model.W, model.R
    for ov in eo.values:
        if ov.name in new_names and new_names[ov.name] != ov.value:
            nv = next(v for v in en.values if v.name == ov.name)
            model.emit("ENUM_VALUE_CHANGED", state=st, field_=path, version=version, span=nv.span,
                       writer_says=f"{eo.name}.{ov.name} = {ov.value:#x}",
                       reader_says=f"{en.name}.{nv.name} = {nv.value:#x}",
                       message=f"{en.kind} value {ov.name} of field '{path}' is {ov.value:#x} in {W} but "
                               f"{nv.value:#x} in {R}: {R} would read {W}'s {ov.name} as "
                               f"{en.name_of(ov.value) or 'an unnamed value'}",
                       hint=f"give {ov.name} its old value back in {R}: `{ov.name} = {ov.value:#x}`, and "
                            f"give the new value a new name",
                       edits=[edits.find(model.sources, nv.span, rf"{ov.name}\s*=\s*[^,}}]*[^,}}\s]",
                                         f"{ov.name} = {ov.value:#x}")])
        elif ov.name not in new_names and ov.value not in new_values:
            model.emit("ENUM_VALUE_REMOVED", state=st, field_=path, version=version, span=ov.span,
                       where="writer", writer_says=f"{eo.name}.{ov.name} = {ov.value:#x}", reader_says=None,
                       message=f"{en.kind} value {ov.name} = {ov.value:#x} that {W} may write in field "
                               f"'{path}' has no name in {R}'s {en.name}",
                       hint=f"keep a name for {ov.value:#x} in {R}'s {en.name}: `{ov.name} = {ov.value:#x},` "
                            f"(or another name, such as {ov.name}_DEPRECATED)",
                       edits=[edits.before_statement(model.sources, en.values[0].span,
                                                     f"{ov.name} = {ov.value:#x},") if en.values else None])
    for nv in en.values:
        if nv.value not in old_values and nv.name not in old_names:
            model.emit("ENUM_VALUE_ADDED", state=st, field_=path, version=version, span=nv.span,
                       writer_says=None, reader_says=f"{en.name}.{nv.name} = {nv.value:#x}",
                       message=f"{R}'s {en.kind} {en.name} names value {nv.name} = {nv.value:#x}, which "
                               f"{W} does not know (field '{path}')",
                       hint=f"fine for this direction; a kernel running {W}'s schema would not know "
                            f"{nv.name}, so never write it where {W} must read it back")
