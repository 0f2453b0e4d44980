"""Where a result came from: code version, packages, device, time."""
import functools
import hashlib
import platform
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

PACKAGES = ("catpose", "torch", "torchvision", "mmengine", "mmcv", "mmdet", "mmpose", "numpy",
            "xtcocotools")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def git_commit() -> str:
    repo = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (commit + ("-dirty" if dirty else "")) if commit else "unknown"


def package_versions() -> dict:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def device_name(device: str) -> str:
    import torch

    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return f"cpu: {platform.processor() or platform.machine()} x{__import__('os').cpu_count()}"


@functools.lru_cache(maxsize=1)
def environment() -> dict:
    """mmengine's ``collect_env`` (platform, Python, compiler, PyTorch, TorchVision, OpenCV,
    CUDA), less torch's long build details; once per process (it runs the compiler)."""
    from mmengine.utils.dl_utils import collect_env

    return {k: str(v) for k, v in collect_env().items() if k != "PyTorch compiling details"}


def provenance(device: str) -> dict:
    """Code version, package versions, device and environment of a result."""
    return dict(git_commit=git_commit(), packages=package_versions(), device=device,
                device_name=device_name(device), python=platform.python_version(),
                host=platform.node(), env=dict(environment()))


def data_fingerprint(data_root) -> str:
    """Hash of the annotation files and of the image list (names and sizes)."""
    root = Path(data_root)
    h = hashlib.sha256()
    for ann in sorted((root / "annotations").glob("*.json")):
        h.update(ann.name.encode())
        h.update(ann.read_bytes())
    images = root / "images"
    if images.is_dir():
        for p in sorted(images.rglob("*")):
            if p.is_file():
                h.update(f"{p.relative_to(images)}:{p.stat().st_size}".encode())
    return h.hexdigest()[:16]
