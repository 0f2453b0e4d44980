"""Refresh the generated blocks of README.md and docs/*.md from the code and the committed
results, or check them (--check).

A generated table sits between ``<!-- table: ARGS -->`` and ``<!-- end table -->``, where ARGS
are the arguments of ``python -m catpose_lib table`` (``--markdown`` is added), e.g.
``<!-- table: study --results results/real_cats -->``; a generated paragraph between
``<!-- text: ARGS -->`` and ``<!-- end text -->`` (``python -m catpose_lib text ARGS``), e.g.
``<!-- text: rule -->``, the adopt rule as the code words it.  The documents show what the
code and the results say.

    .venv/bin/python scripts/readme_tables.py           # rewrite the blocks in README.md and docs/*.md
    .venv/bin/python scripts/readme_tables.py --check   # exit 1 when a block is stale
"""
import argparse
import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"(<!-- (?P<kind>table|text): (?P<args>[^>]*?) -->\n)(?P<body>.*?)(<!-- end (?P=kind) -->)", re.S)


def render(kind: str, args: str) -> str:
    extra = ["--markdown"] if kind == "table" else []
    out = subprocess.run([sys.executable, "-m", "catpose_lib", kind, *shlex.split(args), *extra],
                         cwd=REPO, capture_output=True, text=True, check=True)
    return out.stdout.rstrip("\n") + "\n"


def refresh(text: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + render(m.group("kind"), m.group("args")) + m.group(5), text)


def documents() -> list:
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--readme", action="append", default=None,
                   help="a document to refresh (repeatable; default README.md and docs/*.md)")
    p.add_argument("--check", action="store_true")
    args = p.parse_args(argv)
    stale_any = False
    for path in [Path(r) for r in args.readme] if args.readme else documents():
        text = path.read_text()
        new = refresh(text)
        if args.check:
            stale = [f"{m.group('kind')} '{m.group('args')}'" for m, n in zip(BLOCK.finditer(text), BLOCK.finditer(new))
                     if m.group("body") != n.group("body")]
            for a in stale:
                print(f"{path}: the {a} is stale: run scripts/readme_tables.py", file=sys.stderr)
            stale_any = stale_any or bool(stale)
        elif new != text:
            path.write_text(new)
    return 1 if stale_any else 0


if __name__ == "__main__":
    sys.exit(main())
