"""Running runs: one run trained by mmengine's Runner (resumable, keyed), its result on disk,
the hooks and speed options it trains with, pretraining and prediction."""
