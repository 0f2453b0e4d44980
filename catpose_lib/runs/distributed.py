"""Several processes through mmengine's distributed runner (``torchrun ... --launcher pytorch``).

mmengine 0.10.7 assumes GPUs under the pytorch launcher: ``init_dist`` calls
``torch.cuda.set_device`` and the DDP wrapper gets ``device_ids=[LOCAL_RANK]``.  On the CPU
(gloo) we initialise the process group ourselves and wrap with
:class:`CPUDistributedDataParallel`, which drops ``device_ids``.
"""
import torch.distributed as dist
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module(force=True)
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """MMDistributedDataParallel for CPU modules (no ``device_ids``)."""

    def __init__(self, module, device_ids=None, **kwargs):
        super().__init__(module=module, device_ids=None, **kwargs)


def configure_distributed(cfg, launcher: str, device: str) -> None:
    cfg.launcher = launcher
    if launcher == "none":
        return
    if device == "cpu":
        if not dist.is_initialized():
            dist.init_process_group(backend="gloo")
        cfg.model_wrapper_cfg = dict(type="CPUDistributedDataParallel", broadcast_buffers=False)
