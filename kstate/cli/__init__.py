"""The ``kstate`` command line.

``COMMANDS`` lists the subcommands and their one-line help; each lives in a
module ``cmd_<name>.py`` of this package that defines ``add_arguments(parser)``
and ``run(args) -> int`` (its docstring is the subcommand's ``--help``
description).  Only the chosen command's module is imported, when argparse
reaches its name, and a command imports what it works with inside ``run``:
``kstate --help`` costs little more than starting Python, and ``kstate
decode`` does not load the compiler's backends or the checker.  ``main``
maps every ``KstateError`` to its rendering on stderr and exit code 2, a
closed pipe on stdout to exit 2 (the output did not all arrive), and any
other exception to a one-line internal error (``--debug`` shows the
traceback).
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: subcommand -> its one-line help in ``kstate --help`` (the order listed); the code is in cmd_<name>.py
COMMANDS = {
    "check": "check compatibility between schemas (refuse silent data loss across a live update)",
    "compile": "compile schemas into codecs, C headers, a snapshot and docs",
    "decode": "decode a KSTATE stream into JSON, an annotated tree or an annotated hexdump",
    "diff": "compare two KSTATE dumps field by field (entries by state and instance, fields by name)",
    "encode": "encode a decode document (JSON) into a KSTATE stream",
    "explain": "explain a compile, decode or check code, with an example and its fix",
    "matrix": "table of safe updates and rollbacks between N kernels' schemas",
    "sample": "random valid streams of a state, for testing restore code",
}


class _Commands(argparse._SubParsersAction):
    """The subcommands' action: the chosen command's parser gets its options
    (and its module is imported) only when argparse dispatches to it."""

    def __call__(self, parser, namespace, values, option_string=None):
        name = values[0]
        sub = self._name_parser_map.get(name)
        if sub is not None and not hasattr(sub, "_kstate_loaded"):
            mod = importlib.import_module(f"{__package__}.cmd_{name}")
            sub.description = mod.__doc__
            mod.add_arguments(sub)
            sub.set_defaults(_run=mod.run)
            sub._kstate_loaded = True
        super().__call__(parser, namespace, values, option_string)


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="kstate",
        description="Schema compiler, codec and compatibility checker for KSTATE live-update streams.",
        epilog="exit codes: 0 done, nothing wrong; 1 something is wrong with the subject "
               "(incompatible change, blob with errors, stale files); 2 could not do the job.")
    parser.add_argument("--version", action="version", version=f"kstate {__version__}")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks of internal errors")
    parser.register("action", "parsers", _Commands)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show Python tracebacks of internal errors")
    return parser


class _Closed:
    """Stands in for a standard stream that was closed when kstate started
    (``kstate ... >&-``): using it is a clean error, not an internal one."""

    def __init__(self, name: str):
        self.name = name
        self.buffer = self

    def _fail(self, *args, **kwargs):
        from ..errors import UsageError

        hint = {"input": "give a file instead of -", "output": "run it with stdout open, or give -o FILE "
                "where the command has one"}.get(self.name, "run it with stderr open")
        raise UsageError(f"standard {self.name} is closed (the command was started with it closed); {hint}")

    write = read = readline = _fail

    def flush(self) -> None:
        pass

    def fileno(self) -> int:
        self._fail()


def _guard_streams() -> None:
    """Occupy closed descriptors 0-2 with /dev/null, so no file kstate opens gets
    one of them, and make using the closed stream a UsageError."""
    import os

    for fd, name, attr in ((0, "input", "stdin"), (1, "output", "stdout"), (2, "error", "stderr")):
        if getattr(sys, attr) is None:
            try:
                os.fstat(fd)
            except OSError:
                try:
                    os.open(os.devnull, os.O_RDWR)
                except OSError:
                    pass
            setattr(sys, attr, _Closed(name))


def _broken_pipe() -> None:
    """Stdout's reader went away: say so, and keep the interpreter from
    failing again when it flushes stdout at exit."""
    import os

    from ..errors import UsageError

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, UsageError):
        pass
    try:
        print("kstate: error: the output was cut short: its reader closed the pipe", file=sys.stderr)
    except (OSError, ValueError):
        pass


def run(argv: list[str] | None) -> int:
    _guard_streams()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return 2
    from ..errors import KstateError, SchemaError
    from ..escape import printable

    try:
        code = args._run(args)
        sys.stdout.flush()
        return code
    except SchemaError as err:
        print(err.render(), file=sys.stderr)
        return 2
    except KstateError as err:
        print(err.render(), file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # not a success: what was asked for was not all delivered (compile --check | head -1)
        _broken_pipe()
        return 2
    except RecursionError as err:
        if getattr(args, "debug", False):
            raise
        print(f"kstate: error: input nests too deeply ({printable(err)})", file=sys.stderr)
        return 2
    except Exception as err:  # noqa: BLE001 - the promise is: no traceback for any input
        if getattr(args, "debug", False):
            raise
        print(f"kstate: internal error: {type(err).__name__}: {printable(err)} (run with --debug for details)",
              file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> None:
    sys.exit(run(sys.argv[1:] if argv is None else argv))


def compile_main(argv: list[str] | None = None) -> None:
    """``kstate-compile``: the same as ``kstate compile``, for build systems."""
    sys.exit(run(["compile", *(sys.argv[1:] if argv is None else argv)]))
