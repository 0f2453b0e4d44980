"""MMPose config files of catpose (``BASELINE_CONFIG`` is the course baseline,
``PRETRAIN_CONFIG`` the cross-species pretraining that inherits it, ``SEARCH_CONFIG`` the
baseline with the Optuna pruning hook that search trials train)."""
from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent
BASELINE_CONFIG = CONFIG_DIR / "res50_cats_128x128.py"
PRETRAIN_CONFIG = CONFIG_DIR / "pretrain_animals.py"
SEARCH_CONFIG = CONFIG_DIR / "search_trial.py"
HRNET_CONFIG = CONFIG_DIR / "hrnet_w32.py"
