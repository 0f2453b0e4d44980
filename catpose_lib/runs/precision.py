"""Mixed precision and channels-last as engine options, on CPU and CUDA.

mmengine's ``AmpOptimWrapper`` asserts a CUDA/NPU/MLU device, so CPU bf16 autocast needs
:class:`CPUAmpOptimWrapper` (bf16 has fp32's exponent range: no loss scaling).  On CUDA the
stock ``AmpOptimWrapper`` is used with bf16 where supported, else fp16 with loss scaling.
"""
import contextlib

import torch
from mmengine.hooks import Hook
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.registry import HOOKS, OPTIM_WRAPPERS

from catpose_lib.runs.speed_defaults import DEFAULT_CHANNELS_LAST, DEFAULT_PRECISION, PRECISIONS


@contextlib.contextmanager
def heatmaps_in_fp32(model):
    """The heatmaps leave autocast as fp32: MMPose's head computes its accuracy with numpy,
    which has no bfloat16, and the MSE loss is better in fp32 anyway."""
    head = getattr(getattr(model, "module", model), "head", None)
    final = getattr(head, "final_layer", None)
    handle = final.register_forward_hook(_to_float32) if isinstance(final, torch.nn.Module) else None
    try:
        yield
    finally:
        if handle is not None:
            handle.remove()


@OPTIM_WRAPPERS.register_module(force=True)
class CPUAmpOptimWrapper(OptimWrapper):
    """OptimWrapper running forward + loss under ``torch.autocast('cpu', bfloat16)``."""

    def __init__(self, dtype="bfloat16", **kwargs):
        super().__init__(**kwargs)
        self.cast_dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype

    @contextlib.contextmanager
    def optim_context(self, model):
        with super().optim_context(model), heatmaps_in_fp32(model), torch.autocast("cpu", dtype=self.cast_dtype):
            yield


@OPTIM_WRAPPERS.register_module(force=True)
class PoseAmpOptimWrapper(AmpOptimWrapper):
    """mmengine's CUDA ``AmpOptimWrapper`` with the heatmaps in fp32 (see heatmaps_in_fp32)."""

    @contextlib.contextmanager
    def optim_context(self, model):
        with super().optim_context(model), heatmaps_in_fp32(model):
            yield


def _to_float32(module, inputs, output):
    return output.float() if torch.is_tensor(output) else output


@HOOKS.register_module(force=True)
class ChannelsLastHook(Hook):
    """Put the model in channels-last memory format before training/testing."""

    priority = "VERY_HIGH"

    def before_run(self, runner):
        runner.model.to(memory_format=torch.channels_last)


def cpu_bf16_supported() -> bool:
    """True where oneDNN has native bf16 kernels (AVX512-BF16 / AMX)."""
    try:
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def resolve_precision(precision: str, device: str) -> str:
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    if precision != "auto":
        if device == "cpu" and precision == "fp16":
            raise ValueError("fp16 autocast is not supported on the CPU: use bf16 or fp32")
        return precision
    if device == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "bf16" if cpu_bf16_supported() else "fp32"


def apply_speed_options(cfg, device: str, precision: str = DEFAULT_PRECISION,
                        channels_last: bool = DEFAULT_CHANNELS_LAST) -> dict:
    """Edit the config for mixed precision, channels-last and (CUDA) loader/cudnn settings.

    Returns what was applied (recorded with the run's results).
    """
    resolved = resolve_precision(precision, device)
    if resolved != "fp32":
        wrapper = dict(cfg.optim_wrapper)
        wrapper.pop("type", None)
        if device == "cuda":
            cfg.optim_wrapper = dict(wrapper, type="PoseAmpOptimWrapper", dtype="bfloat16" if resolved == "bf16" else "float16",
                                     **({"loss_scale": "dynamic"} if resolved == "fp16" else {}))
        else:
            cfg.optim_wrapper = dict(wrapper, type="CPUAmpOptimWrapper", dtype="bfloat16")
    if channels_last:
        cfg.custom_hooks = list(cfg.get("custom_hooks", [])) + [dict(type="ChannelsLastHook")]
    if device == "cuda":
        cfg.env_cfg.cudnn_benchmark = True
        for loader in (cfg.train_dataloader, cfg.val_dataloader):
            loader.pin_memory = True
            loader.persistent_workers = loader.get("num_workers", 0) > 0
    return dict(precision=resolved, channels_last=bool(channels_last))
