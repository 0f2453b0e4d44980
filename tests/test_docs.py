"""The README and docs/: short README, no broken relative link or #anchor, make targets that exist."""
import re
from pathlib import Path

from tests.conftest import REPO

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.S | re.M)
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_LINK = re.compile(r"""\b(?:href|src)\s*=\s*["']([^"']+)["']""")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$", re.M)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def prose(text: str) -> str:
    """The text without fenced code blocks and code spans (links there are not links)."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def github_slug(heading: str) -> str:
    """GitHub's anchor of a heading: its rendered text lowercased, punctuation dropped (letters,
    digits, '_' and '-' stay), each space a '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text
    text = re.sub(r"<[^>]+>", "", text)                          # inline HTML
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def anchors(path: Path) -> set:
    """Every heading's anchor in a markdown file, duplicates numbered as GitHub does (-1, -2)."""
    seen, out = {}, set()
    for _, title in HEADING.findall(FENCE.sub("", path.read_text())):
        slug = github_slug(title)
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def broken_links(page: Path) -> list:
    """``page: target (why)`` for each relative link or #anchor of ``page`` that does not resolve."""
    problems = []
    text = prose(page.read_text())
    for target in LINK.findall(text) + HTML_LINK.findall(text):
        if SCHEME.match(target):
            continue  # http(s), mailto: not checked here
        path_part, _, anchor = target.partition("#")
        dest = (page.parent / path_part).resolve() if path_part else page
        if not dest.exists():
            problems.append(f"{page.name}: {target} (no file {dest})")
        elif anchor:
            if dest.suffix != ".md" or dest.is_dir():
                problems.append(f"{page.name}: {target} (an anchor into a file that is not markdown)")
            elif anchor not in anchors(dest):
                problems.append(f"{page.name}: {target} (no heading with anchor #{anchor} in {dest.name})")
    return problems


def code(text: str) -> str:
    """The fenced code blocks and code spans of a page (where commands are written)."""
    blocks = [m.group(0) for m in FENCE.finditer(text)]
    return "\n".join(blocks + CODE_SPAN.findall(FENCE.sub("", text)))


def make_targets() -> set:
    return set(re.findall(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", (REPO / "Makefile").read_text(), re.M))


def test_readme_is_at_most_250_lines_and_its_first_screen_says_how_to_start():
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines"
    first_screen = "\n".join(lines[:40])
    for must in ("make setup", "make demo", ".venv/bin/python -m pytest -q", "catpose_lib predict", "make study"):
        assert must in first_screen, must


def test_every_relative_link_and_anchor_of_the_readme_and_docs_resolves():
    assert len(PAGES) > 5
    problems = [p for page in PAGES for p in broken_links(page)]
    assert not problems, "\n".join(problems)


def test_the_link_check_finds_a_missing_file_and_a_missing_anchor(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# Set up (fresh machine)\n\n## Numbers: 1,124 cats ± 2\n\n## Twice\n\n"
                                            "## Twice\n")
    page = tmp_path / "README.md"
    page.write_text("[ok](docs/a.md) [ok](docs/a.md#set-up-fresh-machine) [ok](docs/a.md#numbers-1124-cats--2) "
                    "[ok](docs/a.md#twice-1) [ok](#top) [web](https://example.org/x#y) `[code](nowhere.md)`\n"
                    "```\n[fenced](nowhere.md)\n```\n"
                    "[gone](docs/b.md) [bad anchor](docs/a.md#setup) ![img](figures/x.png) [self](#nothing)\n\n# Top\n")
    problems = broken_links(page)
    assert sorted(p.split(" (")[0] for p in problems) == sorted([
        "README.md: docs/b.md", "README.md: figures/x.png", "README.md: docs/a.md#setup", "README.md: #nothing"])


def test_make_targets_named_in_the_readme_and_docs_exist():
    targets = make_targets()
    assert {"setup", "test", "demo", "study", "report", "lab"} <= targets
    named = {t for page in PAGES for t in re.findall(r"\bmake ([a-z][a-z0-9_-]*)\b", code(page.read_text()))}
    assert named, "the README names no make target"
    assert named <= targets, f"named but not in the Makefile: {sorted(named - targets)}"
