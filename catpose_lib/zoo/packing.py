"""Weights packed small: int8 with one fp32 scale per output channel (or fp16), saved with
``torch.save`` and split into ``PREFIX.part0, .part1, ...`` of at most a given size.

int8 per output channel keeps each weight within half a step (1/254 of its channel's largest
magnitude); tensors under 2 dims or 1,024 values (biases, norms, running stats) stay fp32.
Both the packed parts and the unpacked checkpoint load with ``weights_only=True``.  The AP
effect is measured where a model is packed (``catpose_lib.zoo.pack_run``).
"""
import hashlib
import io
from pathlib import Path

MODES = ("int8", "fp16")
MODE_NOTES = {"int8": "int8 per output channel, fp32 scales", "fp16": "fp16"}


def quantize(state: dict, mode: str = "int8") -> dict:
    """name -> tensor (kept as is) or a dict describing its packed form."""
    import torch

    if mode not in MODES:
        raise ValueError(f"packing mode must be one of {', '.join(MODES)}, not {mode!r}")
    packed = {}
    for name, t in state.items():
        t = t.detach().cpu()
        if not t.is_floating_point():
            packed[name] = t
        elif mode == "fp16":
            packed[name] = dict(half=t.half(), dtype=str(t.dtype))
        elif t.dim() >= 2 and t.numel() >= 1024:
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
            dtype = getattr(torch, v["dtype"].split(".")[-1])
            if "half" in v:
                state[name] = v["half"].to(dtype)
            else:
                q = v["q"].float().reshape(v["q"].shape[0], -1)
                state[name] = (q * v["scale"][:, None]).reshape(v["q"].shape).to(dtype)
        else:
            state[name] = v
    return state


def state_sha256(state: dict) -> str:
    """A hash of a state dict's contents (names, dtypes, shapes, bytes), independent of how
    ``torch.save`` lays out a file: the check that an unpacked copy is the packed one."""
    import torch

    h = hashlib.sha256()
    for name in sorted(state):
        t = state[name].detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def write_parts(raw: bytes, prefix, part_bytes: int) -> list:
    """``raw`` as PREFIX.part0 ... of at most ``part_bytes`` each; returns their paths."""
    parts = []
    for i in range(0, max(len(raw), 1), part_bytes):
        path = Path(f"{prefix}.part{i // part_bytes}")
        path.write_bytes(raw[i:i + part_bytes])
        parts.append(str(path))
    return parts


def part_files(prefix) -> list:
    """PREFIX.part0, .part1, ... in order."""
    prefix = Path(prefix)
    return sorted(prefix.parent.glob(prefix.name + ".part*"), key=lambda p: int(p.suffix[5:]))


def pack_state(state: dict, prefix, part_bytes: int, mode: str = "int8", meta=None) -> list:
    """Pack a state dict into parts; returns their paths."""
    import torch

    buf = io.BytesIO()
    torch.save(dict(packed=quantize(state, mode), meta=dict(meta or {}, packing=MODE_NOTES[mode])), buf)
    return write_parts(buf.getvalue(), prefix, part_bytes)


def read_packed(prefix) -> dict:
    """The ``{'state_dict', 'meta'}`` checkpoint that the parts at ``prefix`` hold."""
    import torch

    parts = part_files(prefix)
    if not parts:
        raise FileNotFoundError(f"no {prefix}.part* files")
    data = torch.load(io.BytesIO(b"".join(p.read_bytes() for p in parts)), map_location="cpu", weights_only=True)
    return dict(state_dict=dequantize(data["packed"]), meta=data.get("meta", {}))


def pack(ckpt, prefix, part_mb=15.0, mode="int8") -> list:
    """A checkpoint file's weights as parts of at most ``part_mb`` MiB (the transport's form)."""
    import torch

    data = torch.load(ckpt, map_location="cpu", weights_only=True)
    return pack_state(data["state_dict"], prefix, int(part_mb * 2**20), mode, data.get("meta", {}))


def unpack(prefix, out) -> str:
    """Rebuild a plain ``{'state_dict', 'meta'}`` checkpoint at ``out`` from the parts at ``prefix``."""
    import torch

    data = read_packed(prefix)
    data["meta"]["transport"] = data["meta"].get("packing", MODE_NOTES["int8"])
    torch.save(data, out)
    return str(out)
