"""Refresh the generated blocks of README.md and docs/*.md from the code and the committed
results, or check them (--check).

A generated table sits between ``<!-- table: ARGS -->`` and ``<!-- end table -->``, where ARGS
are the arguments of ``python -m catpose_lib table`` (``--markdown`` is added), e.g.
``<!-- table: study --results results/real_cats -->`` or ``<!-- table: knobs -->``; a generated
paragraph between ``<!-- text: ARGS -->`` and ``<!-- end text -->`` (``python -m catpose_lib text
ARGS``), e.g. ``<!-- text: rule -->``, the adopt rule as the code words it.  The pages show what
the code and the results say.

    .venv/bin/python scripts/readme_tables.py [PAGE ...]          # rewrite (default README.md, docs/*.md)
    .venv/bin/python scripts/readme_tables.py --check [PAGE ...]  # exit 1 when a block is stale
"""
import argparse
import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"(<!-- (?P<kind>table|text): (?P<args>[^>]*?) -->\n)(?P<body>.*?)(<!-- end (?P=kind) -->)", re.S)


def default_pages() -> list:
    """The pages whose blocks are generated: README.md and every docs/*.md."""
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def render(kind: str, args: str) -> str:
    extra = ["--markdown"] if kind == "table" else []
    out = subprocess.run([sys.executable, "-m", "catpose_lib", kind, *shlex.split(args), *extra],
                         cwd=REPO, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{kind} {args}: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else 'failed'}")
    return out.stdout.rstrip("\n") + "\n"


def refresh(text: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + render(m.group("kind"), m.group("args")) + m.group(5), text)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("pages", nargs="*", type=Path, help="markdown pages (default: README.md and docs/*.md)")
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 when a block is stale")
    args = p.parse_args(argv)
    stale = 0
    for path in args.pages or default_pages():
        text = path.read_text()
        new = refresh(text)
        if args.check:
            for m, n in zip(BLOCK.finditer(text), BLOCK.finditer(new)):
                if m.group("body") != n.group("body"):
                    print(f"{path}: the {m.group('kind')} '{m.group('args')}' is stale: run scripts/readme_tables.py",
                          file=sys.stderr)
                    stale += 1
        elif new != text:
            path.write_text(new)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
