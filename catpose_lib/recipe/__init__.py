"""What a run is: the study as data (experiments), the knobs that edit MMPose's config, the
protocols, budgets, the resolved config of a run and its start checkpoint."""
