"""Datasets: synthetic cats, Animal-Pose import, validation and analysis (COCO keypoint layout)."""
