"""Carry a start checkpoint through a size-limited channel (a remote machine that returns
at most N MiB a call) and rebuild it on the other side.

  pack   CKPT PREFIX [--part-mb 15]   -> PREFIX.part0 ... : weights of >= 2 dims as int8 with one
                                          fp32 scale per output channel, the rest as fp32
  unpack PREFIX OUT                   -> OUT, a plain {'state_dict', 'meta'} start checkpoint

Per-output-channel int8 keeps each weight within 0.4% of its channel's largest value; the
transport's effect on AP is measured (scripts/gpu_check.py evaluates both copies).  Both
files load with ``weights_only=True``.
"""
import argparse
import io
import sys
from pathlib import Path


def quantize(state: dict) -> dict:
    import torch

    packed = {}
    for name, t in state.items():
        t = t.detach().cpu()
        if t.is_floating_point() and t.dim() >= 2 and t.numel() >= 1024:
            flat = t.float().reshape(t.shape[0], -1)
            scale = flat.abs().amax(dim=1).clamp_min(1e-12) / 127.0
            q = torch.round(flat / scale[:, None]).clamp(-127, 127).to(torch.int8)
            packed[name] = dict(q=q.reshape(t.shape), scale=scale, dtype=str(t.dtype))
        else:
            packed[name] = t
    return packed


def dequantize(packed: dict) -> dict:
    import torch

    state = {}
    for name, v in packed.items():
        if isinstance(v, dict):
            q = v["q"].float().reshape(v["q"].shape[0], -1)
            state[name] = (q * v["scale"][:, None]).reshape(v["q"].shape).to(getattr(torch, v["dtype"].split(".")[-1]))
        else:
            state[name] = v
    return state


def pack(ckpt, prefix, part_mb=15.0) -> list:
    import torch

    data = torch.load(ckpt, map_location="cpu", weights_only=True)
    buf = io.BytesIO()
    torch.save(dict(packed=quantize(data["state_dict"]), meta=data.get("meta", {})), buf)
    raw, size = buf.getvalue(), int(part_mb * 2**20)
    parts = []
    for i in range(0, len(raw), size):
        path = Path(f"{prefix}.part{i // size}")
        path.write_bytes(raw[i:i + size])
        parts.append(str(path))
    return parts


def unpack(prefix, out) -> str:
    import torch

    parts = sorted(Path(prefix).parent.glob(Path(prefix).name + ".part*"), key=lambda p: int(p.suffix[5:]))
    if not parts:
        raise SystemExit(f"no {prefix}.part* files")
    data = torch.load(io.BytesIO(b"".join(p.read_bytes() for p in parts)), map_location="cpu", weights_only=True)
    meta = dict(data.get("meta", {}), transport="int8 per output channel (scripts/pack_checkpoint.py)")
    torch.save(dict(state_dict=dequantize(data["packed"]), meta=meta), out)
    return str(out)


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
