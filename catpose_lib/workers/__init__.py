"""Many runs and many workers: a block of the study as a grid of runs and the Optuna search,
both Optuna studies in a storage that any number of workers share."""
