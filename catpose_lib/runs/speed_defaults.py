"""The engine's default speed settings (no heavy imports: the CLI reads them for --help).

bf16 autocast where the CPU/GPU has it (else fp32 on the CPU, fp16 on old GPUs), and
channels-last.  Decided by ``benchmarks/precision_parity.py`` on the real Animal-Pose cats
(ResNet-18 at 128 px from scratch, lr 1e-3, 20 epochs, seeds 0 and 1, 2-core CPU; numbers in
``results/benchmarks/precision_parity.json``): mean AP difference bf16 - fp32 +0.004 (final)
and +0.005 (best), within the 0.011 AP spread between seeds; an uncontended epoch took
24.5 s instead of 46.0 s.  ``--precision fp32 --no-channels-last`` gives fp32 runs.
"""

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
DEFAULT_PRECISION = "auto"
DEFAULT_CHANNELS_LAST = True
