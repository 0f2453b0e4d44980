"""Import the modules that register catpose's hooks, transforms, optim and model wrappers
in mmengine/MMPose registries (configs name this module in ``custom_imports``)."""
from catpose_lib.models import efficientnet_lite  # noqa: F401
from catpose_lib.runs import distributed, hooks, image_cache, precision  # noqa: F401
