"""Models MMPose lacks, registered in its model registry (configs import them through
``catpose_lib.runs.registered``)."""
