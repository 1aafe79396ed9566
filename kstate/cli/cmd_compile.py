"""Compile .kstate schemas into Python codecs, C headers, a JSON snapshot and
Markdown docs.

For a schema file schemas/memfd.kstate it writes DIR/python/memfd.py,
DIR/c/memfd.h, DIR/docs/memfd.md, and one DIR/kstate-snapshot.json for the
whole set.  Output is deterministic; a run that fails writes nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..backends import available
from ..errors import UsageError
from ..output import depfile, languages, render_all, stale, write
from ..sides import load_side

NAME = "compile"
HELP = "compile schemas into codecs, C headers, a snapshot and docs"


def add_arguments(p) -> None:
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help=".kstate files or folders (all *.kstate below them); default: schemas/")
    p.add_argument("-o", "--output", default="generated", metavar="DIR",
                   help="output folder (default: generated/)")
    p.add_argument("--lang", metavar="LANGS",
                   help=f"comma list of {', '.join(available())} (default: all)")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 naming each generated file that is missing, stale or extra")
    p.add_argument("--depfile", metavar="FILE",
                   help="also write a Make-style dependency file (outputs: the schema files read)")


def run(args) -> int:
    paths = args.paths or ["schemas"]
    langs = languages(args.lang)
    if any(p.endswith(".json") or p.startswith("git:") for p in paths):
        raise UsageError("compile reads .kstate files and folders")
    schema_set = load_side(paths)
    if schema_set.warnings:
        for w in schema_set.warnings:
            print(w.render(schema_set.sources), file=sys.stderr)
    files = render_all(schema_set, langs)
    outdir = Path(args.output)
    if args.check:
        problems = stale(outdir, files, langs)
        for status, rel in problems:
            print(f"{status}: {(outdir / rel).as_posix()}")
        if problems:
            print(f"kstate compile --check: {len(problems)} generated file(s) out of date; "
                  f"run kstate compile", file=sys.stderr)
            return 1
        return 0
    write(outdir, files, langs)
    if args.depfile:
        inputs = [f.display for f in schema_set.files]
        text = depfile(Path(args.depfile), list(files), outdir, inputs)
        write(Path(args.depfile).parent, {Path(args.depfile).name: text}, [])
    return 0
