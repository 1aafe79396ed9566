"""Syntax trees to the typed model, checking every rule of the language.

The passes (``kstate/passes/``, one module each) run in the order of
``PASSES``; each reports into one ``Reporter`` and goes on after an error
where it can, so one run reports every problem:

1. ``declare``      names of all items, duplicates, reserved words, what each file sees
2. ``constants``    constant values (any order, cycles reported)
3. ``enums``        enum and flags values
4. ``nesting``      types nested too deep, refused before anything recurses
5. ``structs``      plain structs (members, sizes; recursion reported)
6. ``states``       properties, fields, annotations, layouts per version
7. ``retired``      retired states
8. ``set_rules``    ids, subsections, nested-state recursion
9. ``c_names``      the C names the headers make of schema names: reserved words, clashes

Then ``_assemble`` puts what was built into the ``SchemaSet``.
"""

from __future__ import annotations

from . import collector
from . import model as m
from . import syntax as s
from .errors import SchemaError, SourceMap
from .loader import SourceFile
from .passes import c_names, constants, declare, enums, nesting, retired, set_rules, states, structs
from .passes.context import Context

PASSES = (declare, constants, enums, nesting, structs, states, retired, set_rules, c_names)


@collector.paused()
def build(sources: list[SourceFile], source_map: SourceMap) -> m.SchemaSet:
    ctx = Context(sources)
    for p in PASSES:
        p.run(ctx)
    result = _assemble(ctx)
    if ctx.r.has_errors:
        raise SchemaError(sorted(ctx.r.diagnostics, key=_diag_key), source_map)
    result.warnings.sort(key=_diag_key)
    return result


def _assemble(ctx: Context) -> m.SchemaSet:
    """Each file's items in source order, and the set."""
    tables = {"const": ctx.consts, "enum": ctx.enums, "struct": ctx.structs,
              "state": ctx.states, "retired": ctx.retired}
    for src in ctx.sources:
        sf = ctx.files[src.real]
        if src.tree is None:
            continue
        for item in src.tree.items:
            if isinstance(item, s.ImportDecl):
                continue
            decl = ctx.decls.get(item.name.text)
            if decl is None or decl.node is not item:
                continue
            built = tables[decl.kind].get(item.name.text)
            if built is not None:
                sf.items.append(built)
    files = sorted(ctx.files.values(), key=lambda f: f.path)
    return m.SchemaSet(files, {k: v for k, v in ctx.consts.items() if v},
                       dict(ctx.enums), {k: v for k, v in ctx.structs.items() if v},
                       dict(ctx.states), dict(ctx.retired),
                       [d for d in ctx.r.diagnostics if d.severity != "error"])


def _diag_key(d):
    sp = d.span
    return (sp.file, sp.line, sp.column) if sp else ("", 0, 0)
