"""catpose: cat pose estimation studies on top of MMPose."""
import os as _os
import warnings as _warnings

__version__ = "0.1.0"

# albumentations 1.4 asks PyPI for a newer version at import: no network call from a training run
_os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
# mmengine 0.10.7 imports pkg_resources (deprecated by setuptools, pinned <81 in the install):
# a warning per process that says nothing about catpose
_warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
