# What a `search` trial trains: the course baseline (this file inherits it) plus the Optuna
# pruning hook (catpose_lib.runs.hooks.OptunaPruningHook), which reports coco/AP after each
# validation to the trial that catpose_lib.workers.search hands it and stops the run when the
# trial's pruner says so.  The trial's knobs come on top, as for any run of the study.
# A list replaces its base's list, so the baseline's SyncBuffersHook is listed again.
_base_ = ['./res50_cats_128x128.py']

custom_hooks = [dict(type='SyncBuffersHook'), dict(type='OptunaPruningHook')]
