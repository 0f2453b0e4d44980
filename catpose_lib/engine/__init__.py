"""The experiment engine: configs, the reference study as data, runs, results, prediction."""
