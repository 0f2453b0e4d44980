"""Refresh the README's generated tables from the committed results, or check them (--check).

Each generated block sits between ``<!-- table: ARGS -->`` and ``<!-- end table -->``, where
ARGS are the arguments of ``python -m catpose_lib table`` (``--markdown`` is added), e.g.
``<!-- table: study --results results/real_cats -->``: the README shows what the results say.

    .venv/bin/python scripts/readme_tables.py           # rewrite the blocks in README.md
    .venv/bin/python scripts/readme_tables.py --check   # exit 1 when a block is stale
"""
import argparse
import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"(<!-- table: (?P<args>[^>]*?) -->\n)(?P<body>.*?)(<!-- end table -->)", re.S)


def render(args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "catpose_lib", "table", *shlex.split(args), "--markdown"],
                         cwd=REPO, capture_output=True, text=True, check=True)
    return out.stdout.rstrip("\n") + "\n"


def refresh(text: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + render(m.group("args")) + m.group(4), text)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--readme", default=str(REPO / "README.md"))
    p.add_argument("--check", action="store_true")
    args = p.parse_args(argv)
    path = Path(args.readme)
    text = path.read_text()
    new = refresh(text)
    if args.check:
        stale = [m.group("args") for m, n in zip(BLOCK.finditer(text), BLOCK.finditer(new))
                 if m.group("body") != n.group("body")]
        for a in stale:
            print(f"{path}: the table '{a}' is stale: run scripts/readme_tables.py", file=sys.stderr)
        return 1 if stale else 0
    if new != text:
        path.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
