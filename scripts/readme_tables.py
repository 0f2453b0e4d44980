"""Refresh the generated tables of README.md and docs/*.md from the committed results, or check them (--check).

Each generated block sits between ``<!-- table: ARGS -->`` and ``<!-- end table -->``, where
ARGS are the arguments of ``python -m catpose_lib table`` (``--markdown`` is added), e.g.
``<!-- table: study --results results/real_cats -->`` or ``<!-- table: knobs -->``: the pages
show what the results and the code say.

    .venv/bin/python scripts/readme_tables.py           # rewrite the blocks in README.md and docs/*.md
    .venv/bin/python scripts/readme_tables.py --check   # exit 1 when a block is stale
    .venv/bin/python scripts/readme_tables.py PAGE.md   # only these pages
"""
import argparse
import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"(<!-- table: (?P<args>[^>]*?) -->\n)(?P<body>.*?)(<!-- end table -->)", re.S)


def default_pages() -> list:
    """The pages whose tables are generated: README.md and every docs/*.md."""
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def render(args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "catpose_lib", "table", *shlex.split(args), "--markdown"],
                         cwd=REPO, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"table {args}: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else 'failed'}")
    return out.stdout.rstrip("\n") + "\n"


def refresh(text: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + render(m.group("args")) + m.group(4), text)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("pages", nargs="*", type=Path, help="markdown pages (default: README.md and docs/*.md)")
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 when a table is stale")
    args = p.parse_args(argv)
    stale = 0
    for path in args.pages or default_pages():
        text = path.read_text()
        new = refresh(text)
        if args.check:
            for m, n in zip(BLOCK.finditer(text), BLOCK.finditer(new)):
                if m.group("body") != n.group("body"):
                    print(f"{path}: the table '{m.group('args')}' is stale: run scripts/readme_tables.py",
                          file=sys.stderr)
                    stale += 1
        elif new != text:
            path.write_text(new)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
