"""Every relative link in README.md, docs/ and generated/ resolves: the file
exists in this repository and, for `#anchor` links into Markdown, the page has
a heading with that anchor (GitHub's rule).  Also: no document names a page
kstate does not ship (`compat-rules.md`, or a bare `cli.md` outside docs/)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"(?<!\!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$", re.M)
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)


def _documents() -> list[Path]:
    docs = [ROOT / "README.md"]
    docs += sorted((ROOT / "docs").rglob("*.md"))
    docs += sorted((ROOT / "generated").rglob("*.md"))
    return docs


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped,
    spaces to dashes."""
    text = re.sub(r"`|\*\*|__", "", heading)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    out = set()
    for m in HEADING.finditer(text):
        slug = _slug(m.group(2))
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    for m in re.finditer(r'<a (?:name|id)="([^"]+)"', text):
        out.add(m.group(1))
    return out


def _links(path: Path):
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    text = re.sub(r"`[^`\n]*`", "", text)
    for m in LINK.finditer(text):
        yield m.group(1) or m.group(2)


def _relative(target: str) -> bool:
    return not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I)


CASES = [(doc, target) for doc in _documents() for target in _links(doc)
         if _relative(target)]


def test_there_are_links_to_follow():
    assert len(CASES) > 20


@pytest.mark.parametrize("doc,target", CASES,
                         ids=[f"{d.relative_to(ROOT)}->{t}" for d, t in CASES])
def test_relative_link_resolves(doc: Path, target: str):
    path_part, _, anchor = target.partition("#")
    dest = (doc.parent / path_part).resolve() if path_part else doc
    assert dest.exists(), f"{doc.relative_to(ROOT)}: link to missing {target}"
    assert ROOT in dest.parents or dest == ROOT, f"{target} leaves the repository"
    if anchor and dest.suffix == ".md":
        assert anchor in _anchors(dest), (
            f"{doc.relative_to(ROOT)}: no heading #{anchor} in {dest.relative_to(ROOT)}")


SHIPPED = [p for p in _documents()]
SHIPPED += sorted((ROOT / "generated" / "c").glob("*.h"))
SHIPPED += sorted((ROOT / "kstate").rglob("*.py")) + sorted((ROOT / "kstate").rglob("*.j2"))


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.relative_to(ROOT)) for p in SHIPPED])
def test_no_reference_to_pages_kstate_does_not_ship(path: Path):
    text = path.read_text(encoding="utf-8")
    assert "compat-rules.md" not in text
    for name in ("cli.md", "wire-format.md", "compatibility.md", "language.md",
                 "codec.md", "security.md", "c-backend.md", "design.md"):
        for m in re.finditer(r"(?<![\w/.-])" + re.escape(name), text):
            line = text.count("\n", 0, m.start()) + 1
            # a bare name is fine inside docs/ (same folder); elsewhere it
            # must say docs/NAME so a reader can find it
            assert path.parent == ROOT / "docs", (
                f"{path.relative_to(ROOT)}:{line}: say docs/{name}")
            assert (ROOT / "docs" / name).exists()
