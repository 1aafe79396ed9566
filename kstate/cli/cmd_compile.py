"""Compile .kstate schemas into Python codecs, C headers, a JSON snapshot and
Markdown docs.

For a schema file schemas/memfd.kstate it writes DIR/python/memfd.py,
DIR/c/memfd.h, DIR/docs/memfd.md, and one DIR/kstate-snapshot.json for the
whole set, and lists what it wrote in DIR/.kstate-outputs.  It removes only
files listed there that the schemas no longer produce (each removal is
printed), never writes through a symbolic link, validates every output path
before writing anything, and renames all files into place only after all
were written: a run that fails writes nothing.  Outputs are byte-identical
whatever the working directory.  Without PATHs and options it uses the
project's kstate.toml ([kstate] schemas, out, langs), else schemas/ and
generated/.
"""

from __future__ import annotations

import sys
from pathlib import Path



def add_arguments(p) -> None:
    from ..backends import available
    from ..diagnostic_formats import FORMATS

    p.add_argument("paths", nargs="*", metavar="PATH",
                   help=".kstate files or folders (all *.kstate below them); "
                        "default: kstate.toml's [kstate] schemas, else schemas/")
    p.add_argument("-o", "--output", metavar="DIR",
                   help="output folder (default: kstate.toml's [kstate] out, else generated/)")
    p.add_argument("--lang", metavar="LANGS",
                   help=f"comma list of {', '.join(available())} (default: kstate.toml's [kstate] langs, else all)")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 naming each generated file that is missing, stale or extra")
    p.add_argument("--depfile", metavar="FILE",
                   help="also write a Make-style dependency file (outputs: the schema files read)")
    p.add_argument("--format", choices=FORMATS, default="text",
                   help="how to print diagnostics: text on stderr (default), or json, github, sarif on stdout")


def run(args) -> int:
    from .. import config
    from ..diagnostic_formats import from_error, render as render_diagnostics
    from ..errors import KstateError

    cfg = config.current()
    paths = args.paths or cfg.schemas() or ["schemas"]
    outdir = Path(args.output or cfg.path_value("kstate", "out") or "generated")
    if args.format == "text":
        return _compile(args, cfg, paths, outdir)
    extra = {"schemas": paths, "out": outdir.as_posix()}
    try:
        code, files, warnings = _compile(args, cfg, paths, outdir, quiet=True)
    except KstateError as err:
        diagnostics, sources = from_error(err)
        print(render_diagnostics("text", diagnostics, sources), end="", file=sys.stderr)
        sys.stdout.write(render_diagnostics(args.format, diagnostics, sources, {**extra, "files": []}))
        return 2
    if args.format == "json":
        extra["files"] = [{"status": s, "path": p} for s, p in files]
    sys.stdout.write(render_diagnostics(args.format, warnings, None, extra))
    if args.format == "github":
        from ..checker.formats import _gh_data, _gh_prop

        for status, path in files:
            if status in ("missing", "stale", "extra"):
                where = f"file={_gh_prop(path)}," if status != "missing" else ""
                sys.stdout.write(f"::error {where}title=kstate compile --check::"
                                 f"{_gh_data(f'{status}: {path}; run kstate compile')}\n")
    return code


def _compile(args, cfg, paths, outdir, quiet=False):
    from ..errors import UsageError
    from ..output import MANIFEST, check as check_outputs, depfile, languages, render_all, write, write_file
    from ..sides import load_side

    langs = languages(args.lang or cfg.langs())
    if any(p.endswith(".json") or p.startswith("git:") for p in paths):
        raise UsageError("compile reads .kstate files and folders")
    schema_set = load_side(paths)
    if not quiet:
        for w in schema_set.warnings:
            print(w.render(schema_set.sources), file=sys.stderr)
    files = render_all(schema_set, langs)
    listed: list[tuple[str, str]] = []
    if args.check:
        problems = check_outputs(outdir, files, langs)
        listed = [(status, (outdir / rel).as_posix()) for status, rel in problems]
        if not quiet:
            for status, shown in listed:
                print(f"{status}: {shown}")
        if problems:
            print(f"kstate compile --check: {len(problems)} generated file(s) out of date; "
                  f"run kstate compile", file=sys.stderr)
        code = 1 if problems else 0
    else:
        removed: list[str] = []

        def report(line: str) -> None:
            removed.append(line)
            if not quiet:
                print(line)

        deps = None
        if args.depfile:  # before writing anything: a depfile that cannot be written fails the run
            inputs = [f.display for f in schema_set.files]
            deps = depfile(Path(args.depfile), [*files, MANIFEST], outdir, inputs)
        write(outdir, files, langs, report)
        listed = [("removed", line[len("removed: "):]) for line in removed]
        if deps is not None:
            write_file(Path(args.depfile), deps.encode("utf-8"))
        code = 0
    if quiet:
        return code, listed, schema_set.warnings
    return code
