"""Rendering a schema set with the chosen backends, and writing the result.

``render_all`` produces ``{path: text}`` in memory.  ``write`` replaces each
changed file atomically (temporary file + rename), leaves identical files
untouched and removes files a backend owns that the schemas no longer
produce.  ``stale`` compares without writing (``compile --check``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from . import model as m
from .backends import available
from .errors import UsageError

IGNORED_DIRS = {"__pycache__"}


def languages(spec: str | None) -> list[str]:
    backends = available()
    if spec is None:
        return list(backends)
    langs = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [l for l in langs if l not in backends]
    if unknown or not langs:
        raise UsageError(f"--lang: unknown language {', '.join(unknown) or '(none)'}; "
                         f"choose from {', '.join(backends)}")
    return [l for l in backends if l in langs]


def render_all(schema_set: m.SchemaSet, langs: list[str]) -> dict[str, str]:
    backends = available()
    out: dict[str, str] = {}
    for lang in langs:
        out.update(backends[lang].render(schema_set))
    return dict(sorted(out.items()))


def _owned(outdir: Path, langs: list[str]) -> set[str]:
    """Files now in ``outdir`` that belong to the chosen backends."""
    backends = available()
    found: set[str] = set()
    for lang in langs:
        owned = outdir / backends[lang].OWNS
        if owned.is_file():
            found.add(backends[lang].OWNS)
        elif owned.is_dir():
            for root, dirs, files in os.walk(owned):
                dirs[:] = sorted(d for d in dirs if d not in IGNORED_DIRS)
                for name in files:
                    if name.endswith(".pyc"):
                        continue
                    found.add((Path(root) / name).relative_to(outdir).as_posix())
    return found


def stale(outdir: Path, files: dict[str, str], langs: list[str]) -> list[tuple[str, str]]:
    """(status, path) for every file that is missing, stale or extra."""
    problems = []
    for rel, text in files.items():
        path = outdir / rel
        if not path.is_file():
            problems.append(("missing", rel))
        elif path.read_bytes() != _bytes(text):
            problems.append(("stale", rel))
    for rel in sorted(_owned(outdir, langs) - set(files)):
        problems.append(("extra", rel))
    return problems


def _bytes(content: str | bytes) -> bytes:
    return content if isinstance(content, bytes) else content.encode("utf-8")


def write(outdir: Path, files: dict[str, str | bytes], langs: list[str]) -> list[str]:
    """Write ``files`` (text or bytes) under ``outdir``; return the paths changed or removed."""
    changed = []
    temps: list[tuple[str, Path]] = []
    try:
        # first every new text goes into a temporary file beside its target ...
        for rel, text in files.items():
            path = outdir / rel
            data = _bytes(text)
            if path.is_file() and path.read_bytes() == data:
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, 0o644)
            temps.append((rel, Path(tmp)))
        # ... then each is renamed over its target (atomic per file)
        for rel, tmp in temps:
            os.replace(tmp, outdir / rel)
            changed.append(rel)
        temps = []
    except OSError as err:
        raise UsageError(f"cannot write to {outdir}: {err.strerror or err}") from None
    finally:
        for _, tmp in temps:
            tmp.unlink(missing_ok=True)
    for rel in sorted(_owned(outdir, langs) - set(files)):
        (outdir / rel).unlink()
        changed.append(rel)
    return changed


def depfile(target: Path, outputs: list[str], outdir: Path, inputs: list[str]) -> str:
    def esc(p: str) -> str:
        return p.replace(" ", "\\ ").replace("#", "\\#").replace("$", "$$")

    outs = " ".join(esc((outdir / o).as_posix()) for o in outputs)
    ins = " \\\n  ".join(esc(i) for i in inputs)
    return f"{outs}: \\\n  {ins}\n" + "".join(f"\n{esc(i)}:\n" for i in inputs)
