"""Many runs and many workers: a block of the study, the Optuna search, and the claims that
let any number of workers share one results folder."""
