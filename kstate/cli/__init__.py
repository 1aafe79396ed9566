"""The ``kstate`` command line.

Each subcommand lives in a module ``cmd_<name>.py`` of this package that
defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``;
they are found by name, in alphabetical order.  ``main`` maps every
``KstateError`` to its rendering on stderr and exit code 2, and any other
exception to a one-line internal error (``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from ..errors import KstateError, SchemaError


def _commands():
    mods = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("cmd_"):
            mods.append(importlib.import_module(f"{__name__}.{info.name}"))
    return mods


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="kstate",
        description="Schema compiler, codec and compatibility checker for KSTATE live-update streams.",
        epilog="exit codes: 0 done, nothing wrong; 1 something is wrong with the subject "
               "(incompatible change, blob with errors, stale files); 2 could not do the job.")
    parser.add_argument("--version", action="version", version=f"kstate {__version__}")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in _commands():
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show Python tracebacks of internal errors")
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def run(argv: list[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return args._run(args)
    except SchemaError as err:
        print(err.render(), file=sys.stderr)
        return 2
    except KstateError as err:
        print(f"kstate: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except RecursionError as err:
        if getattr(args, "debug", False):
            raise
        print(f"kstate: error: input nests too deeply ({err})", file=sys.stderr)
        return 2
    except Exception as err:  # noqa: BLE001 - the promise is: no traceback for any input
        if getattr(args, "debug", False):
            raise
        print(f"kstate: internal error: {type(err).__name__}: {err} (run with --debug for details)",
              file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> None:
    sys.exit(run(sys.argv[1:] if argv is None else argv))


def compile_main(argv: list[str] | None = None) -> None:
    """``kstate-compile``: the same as ``kstate compile``, for build systems."""
    sys.exit(run(["compile", *(sys.argv[1:] if argv is None else argv)]))
