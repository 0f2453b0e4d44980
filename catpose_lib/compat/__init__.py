"""Small fixes for running MMPose 1.3 / mmengine 0.10 on current PyTorch, applied in one place."""
