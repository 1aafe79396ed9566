"""Write random valid KSTATE streams of one state, as an old kernel would.

Each stream holds one SECTION entry of STATE (at --version, default its
current version) with randomly chosen subsections, drawn from the same
hypothesis strategies kstate's own tests use (kstate.testing), so a
downstream kernel can feed them to its restore code.  The same --seed gives
the same streams.  Needs hypothesis (pip install 'kstate[test]').

With --count 1 (the default) the stream goes to -o FILE or stdout; with a
larger count -o names a folder that receives STATE-vV-K.bin files.  A state
whose fixed-size fields alone take more than 16 MiB is refused; hypothesis
keeps its files in a temporary folder (nothing is written to the working
directory but the output).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

MAX_SAMPLE_BYTES = 16 * 1024 * 1024  # one sampled payload, from its fixed-size fields


def add_arguments(p) -> None:
    p.add_argument("schema", nargs="+", metavar="SCHEMA", help="schemas (files, folders, snapshot, git:REF)")
    p.add_argument("--state", required=True, help="the state to sample")
    p.add_argument("--version", type=int, help="version to write (default: the state's current version)")
    p.add_argument("--count", type=int, default=1, help="number of streams (default: 1)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--byteorder", choices=("little", "big"), default="little")
    p.add_argument("--json", action="store_true", help="write the decode JSON documents instead of bytes")
    p.add_argument("-o", "--output", metavar="PATH", help="file (count 1) or folder (count > 1)")


def run(args) -> int:
    from ..errors import UsageError

    with tempfile.TemporaryDirectory(prefix="kstate-sample-") as home:
        # hypothesis writes caches below its home folder (.hypothesis/ in the cwd by default)
        try:
            from hypothesis.configuration import set_hypothesis_home_dir
        except ImportError:  # hypothesis is a test dependency
            raise UsageError("kstate sample needs hypothesis: pip install 'kstate[test]'") from None
        set_hypothesis_home_dir(home)
        try:
            return _sample(args)
        finally:
            set_hypothesis_home_dir(None)


def _sample(args) -> int:
    from ..codec import limits
    from ..codec.describe import describe, member_of
    from ..errors import UsageError
    from ..output import write_file
    from ..sides import load_side
    from ..testing import entries_of, examples

    schema_set = load_side(args.schema)
    state = schema_set.states.get(args.state)
    if state is None:
        raise UsageError(f"no state named {args.state!r} in {schema_set.origin or 'the schemas'}; "
                         f"states: {', '.join(sorted(schema_set.states))}")
    if state.parent is not None:
        raise UsageError(f"{args.state!r} is a subsection of {state.parent.name!r}; sample the parent")
    version = state.version if args.version is None else args.version
    if version not in state.layouts:
        raise UsageError(f"--version {version}: {state.name} supports versions "
                         f"{state.min_version} .. {state.version}")
    desc = describe(schema_set)
    least = limits.fixed_size([member_of(mb) for mb in state.layouts[version]], desc["structs"], desc["enums"])
    if least > MAX_SAMPLE_BYTES:
        raise UsageError(f"{state.name} version {version} takes at least {least} bytes; kstate sample "
                         f"writes payloads of at most {MAX_SAMPLE_BYTES} bytes")
    if args.count < 1:
        raise UsageError("--count must be at least 1")
    if args.count > 1 and not args.output:
        raise UsageError("--count above 1 needs -o FOLDER")
    docs = [{"byteorder": args.byteorder, "entries": [entry]}
            for entry in examples(entries_of(state, 1, version), args.count, args.seed)]
    if args.json:
        blobs = [(json.dumps(d, indent=2) + "\n").encode() for d in docs]
    else:
        blobs = [schema_set.encode(d, byteorder=args.byteorder) for d in docs]
    suffix = "json" if args.json else "bin"
    if args.count == 1 and not args.output:
        sys.stdout.buffer.write(blobs[0])
        return 0
    if args.count == 1:
        write_file(Path(args.output), blobs[0])
        return 0
    folder = Path(args.output)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"cannot create {folder.as_posix()}: {err.strerror or err}") from None
    for k, blob in enumerate(blobs):
        write_file(folder / f"{state.name}-v{version}-{k}.{suffix}", blob)
    return 0
