"""Carry a start checkpoint through a size-limited channel (a remote machine that returns
at most N MiB a call) and rebuild it on the other side.

  pack   CKPT PREFIX [--part-mb 15]   -> PREFIX.part0 ... : weights of >= 2 dims as int8 with one
                                          fp32 scale per output channel, the rest as fp32
  unpack PREFIX OUT                   -> OUT, a plain {'state_dict', 'meta'} start checkpoint

The packing code is the package's (``catpose_lib.zoo.packing``, which also packs the model
zoo); this is its command line.  Both files load with ``weights_only=True``.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from catpose_lib.zoo.packing import dequantize, pack, quantize, unpack  # noqa: E402,F401  (re-exported)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("pack")
    a.add_argument("ckpt")
    a.add_argument("prefix")
    a.add_argument("--part-mb", type=float, default=15.0)
    b = sub.add_parser("unpack")
    b.add_argument("prefix")
    b.add_argument("out")
    args = p.parse_args(argv)
    if args.cmd == "pack":
        print("\n".join(pack(args.ckpt, args.prefix, args.part_mb)))
    else:
        print(unpack(args.prefix, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
