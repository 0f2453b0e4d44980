"""catpose: cat pose estimation studies on top of MMPose."""
__version__ = "0.1.0"
