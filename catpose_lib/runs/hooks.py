"""mmengine hooks that MMPose lacks: a per-validation history that survives resume, a
catch-up validation after a resume, mmdet's invalid-loss check made a run status, and Optuna
pruning after each validation."""
import json
import time
from contextlib import contextmanager
from pathlib import Path

from mmdet.engine.hooks import CheckInvalidLossHook
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from catpose_lib.data.layout import atomic_write_text
from catpose_lib.console import say

HISTORY_FILE = "history.jsonl"
PENDING_FILE = "train_epoch.json"  # the last finished train epoch's stats, until validated


def _loss_value(outputs) -> float:
    loss = (outputs or {}).get('loss', float('nan'))
    return float(loss.detach()) if hasattr(loss, 'detach') else float(loss)


class NotConvergeError(RuntimeError):
    """The training loss became non-finite or exploded."""


class TrialPrunedError(RuntimeError):
    """An Optuna pruner stopped the run: run_one makes it status 'pruned', the search
    ``optuna.TrialPruned`` (so that no run imports optuna)."""


def read_history(work_dir) -> list:
    path = Path(work_dir) / HISTORY_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@HOOKS.register_module(force=True)
class DivergenceGuardHook(CheckInvalidLossHook):
    """mmdet's ``CheckInvalidLossHook`` (a non-finite loss) at every iteration, raised as
    :class:`NotConvergeError` so the run becomes a 'not converge' result instead of a crash; plus
    what it lacks: a loss ``factor`` times the first iteration's ends the run too."""

    priority = 'HIGHEST'

    def __init__(self, factor: float = 100.0, interval: int = 1):
        super().__init__(interval=interval)
        self.factor = factor
        self.first_loss = None

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        loss = _loss_value(outputs)
        try:
            super().after_train_iter(runner, batch_idx, data_batch, outputs)
        except AssertionError:
            raise NotConvergeError(f"loss is {loss} at iteration {runner.iter + 1}") from None
        if self.first_loss is None:
            self.first_loss = max(loss, 1e-12)
        elif loss > self.factor * self.first_loss:
            raise NotConvergeError(f"loss exploded to {loss:.4g} (first {self.first_loss:.4g}) "
                                   f"at iteration {runner.iter + 1}")


_BLOCK = dict(runs_after=None, run_seconds=None)


@contextmanager
def block_progress(runs_after: int, run_seconds=None):
    """Tell the runs trained inside where their block stands: ``runs_after`` runs still to
    come after this one, ``run_seconds`` a trained run's mean so far (None: none yet, this
    run's own pace counts), so that each progress line says the minutes left in the block."""
    previous = dict(_BLOCK)
    _BLOCK.update(runs_after=int(runs_after), run_seconds=run_seconds)
    try:
        yield
    finally:
        _BLOCK.update(previous)


@HOOKS.register_module(force=True)
class StudyHistoryHook(Hook):
    """Append one record per validation to ``work_dir/history.jsonl`` (atomically rewritten):
    epoch, AP, AP50, AP75, AR, mean train loss, lr, seconds and samples/s of the epoch's
    training, seconds of its validation.

    On resume, records after the resumed epoch (from a killed run) are dropped.  ``label``
    prefixes a one-line progress message per validation (printed when ``verbose``): epoch,
    AP, loss, lr, and the minutes left in the run and, inside :func:`block_progress`, in the
    block.
    """

    priority = 'LOW'

    def __init__(self, label: str = "", verbose: bool = True):
        self.label = label
        self.verbose = verbose
        self._reset_epoch()

    def _reset_epoch(self):
        self.loss_sum, self.loss_n, self.samples = 0.0, 0, 0
        self.epoch_start = time.monotonic()

    def before_train(self, runner):
        history = [h for h in read_history(runner.work_dir) if h['epoch'] <= runner.epoch]
        self._write(runner, history)
        self._reset_epoch()
        self.run_start, self.start_epoch = time.monotonic(), runner.epoch

    def before_train_epoch(self, runner):
        self._reset_epoch()

    def before_val_epoch(self, runner):
        self.val_start = time.monotonic()

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.loss_sum += _loss_value(outputs)
        self.loss_n += 1
        self.train_lr = float(runner.optim_wrapper.get_lr()['lr'][0])
        if data_batch is not None:
            self.samples += len(data_batch['data_samples'])

    def after_train_epoch(self, runner):
        self.train_seconds = time.monotonic() - self.epoch_start
        # runner.epoch is still the 0-based index here (the loop counts up afterwards);
        # the history and the checkpoints name this epoch runner.epoch + 1.
        self._pending = dict(epoch=runner.epoch + 1, loss_sum=self.loss_sum, loss_n=self.loss_n,
                             samples=self.samples, train_seconds=self.train_seconds,
                             lr=getattr(self, 'train_lr', None))
        from mmengine.dist import is_main_process

        if is_main_process():  # survives a kill before this epoch's validation
            atomic_write_text(Path(runner.work_dir) / PENDING_FILE, json.dumps(self._pending))

    @staticmethod
    def _read_pending(runner):
        path = Path(runner.work_dir) / PENDING_FILE
        try:
            pending = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        return pending if pending.get('epoch') == runner.epoch else None

    def after_val_epoch(self, runner, metrics=None):
        metrics = metrics or {}
        pending = getattr(self, '_pending', None)
        if not pending or pending.get('epoch') != runner.epoch:  # catch-up after a resume
            pending = self._read_pending(runner)
        if pending:
            self.loss_sum, self.loss_n = pending['loss_sum'], pending['loss_n']
            self.samples, self.train_seconds = pending['samples'], pending['train_seconds']
            self.train_lr = pending.get('lr')
        seconds = getattr(self, 'train_seconds', None) or (time.monotonic() - self.epoch_start)
        record = dict(
            epoch=runner.epoch,
            AP=metrics.get('coco/AP'), AP50=metrics.get('coco/AP .5'),
            AP75=metrics.get('coco/AP .75'), AR=metrics.get('coco/AR'),
            train_loss=(self.loss_sum / self.loss_n) if self.loss_n else None,
            lr=getattr(self, 'train_lr', None),  # at the epoch's last training iteration
            train_seconds=round(seconds, 3),
            samples_per_s=round(self.samples / seconds, 3) if seconds > 0 and self.samples else None,
            val_seconds=round(time.monotonic() - self.val_start, 3) if hasattr(self, 'val_start') else None,
        )
        history = [h for h in read_history(runner.work_dir) if h['epoch'] < record['epoch']]
        history.append(record)
        self._write(runner, history)
        from mmengine.dist import is_main_process

        if self.verbose and is_main_process():
            ap = record['AP']
            loss = record['train_loss']
            done = runner.epoch - getattr(self, 'start_epoch', 0)
            # the estimate needs an epoch trained in this process (a resumed run first
            # validates the epoch it stopped at)
            left = ""
            if done > 0 and hasattr(self, 'run_start'):
                per_epoch = (time.monotonic() - self.run_start) / done
                run_left = per_epoch * (runner.max_epochs - runner.epoch)
                left = f"  (run: ~{run_left / 60:.1f} min left"
                if _BLOCK["runs_after"] is not None:  # inside a block (workers.blocks)
                    per_run = _BLOCK["run_seconds"] or per_epoch * (runner.max_epochs - self.start_epoch)
                    left += f"; block: ~{(run_left + _BLOCK['runs_after'] * per_run) / 60:.1f} min left"
                left += ")"
            say(f"[{self.label}] epoch {runner.epoch}/{runner.max_epochs}  "
                f"AP {ap if ap is None else f'{ap:.4f}'}  "
                f"loss {loss if loss is None else f'{loss:.3g}'}  lr {record['lr'] or 0:.3g}  "
                f"{seconds:.1f} s{left}")

    @staticmethod
    def _write(runner, history):
        from mmengine.dist import is_main_process

        if not is_main_process():
            return
        atomic_write_text(Path(runner.work_dir) / HISTORY_FILE,
                          "".join(json.dumps(h) + "\n" for h in history))


BEST_VAL_PREDICTIONS = "best_val.keypoints.json"


@HOOKS.register_module(force=True)
class BestValPredictionsHook(Hook):
    """Keep the val predictions of the best epoch (by coco/AP) in ``work_dir/best_val.keypoints.json``:
    MMPose's CocoMetric writes each validation's COCO results when given an ``outfile_prefix``
    (set here at run time, so the run's config and key do not change), and this hook keeps the
    best epoch's copy.  Per-instance OKS, paired bootstraps and overlays read it without the
    checkpoint."""

    priority = 'LOWEST'  # after StudyHistoryHook wrote this validation's record

    def before_train(self, runner):
        for metric in runner.val_loop.evaluator.metrics:
            if hasattr(metric, 'outfile_prefix'):
                metric.outfile_prefix = str(Path(runner.work_dir) / 'val_last')

    def after_val_epoch(self, runner, metrics=None):
        latest = Path(runner.work_dir) / 'val_last.keypoints.json'
        history = [h for h in read_history(runner.work_dir) if h.get('AP') is not None]
        if not latest.exists() or not history or (metrics or {}).get('coco/AP') is None:
            return
        best = max(history, key=lambda h: (h['AP'], -h['epoch']))
        if best['epoch'] == runner.epoch:
            atomic_write_text(Path(runner.work_dir) / BEST_VAL_PREDICTIONS, latest.read_text())


@HOOKS.register_module(force=True)
class CatchUpValidationHook(Hook):
    """A run killed between an epoch's checkpoint and that epoch's validation resumes after
    the checkpoint: validate that epoch before training goes on, so the history has no hole
    (and a run killed during its last validation still gets its final mAP).

    It runs after every other hook's ``before_train`` (priority LOWEST): validation calls
    the CheckpointHook, which is only ready once its own ``before_train`` has run.
    """

    priority = 'LOWEST'

    def before_train(self, runner):
        history = read_history(runner.work_dir)
        last = history[-1]['epoch'] if history else 0
        if runner.epoch > last and runner.val_loop is not None:
            runner.val_loop.run()


_PRUNING = dict(trial=None)


@contextmanager
def pruning_trial(trial):
    """Hand an Optuna trial to the :class:`OptunaPruningHook` of the runs trained inside (a
    trial is a live object, not a config value)."""
    previous, _PRUNING["trial"] = _PRUNING["trial"], trial
    try:
        yield trial
    finally:
        _PRUNING["trial"] = previous


@HOOKS.register_module(force=True)
class OptunaPruningHook(Hook):
    """After each validation, report ``metric`` to the trial given by :func:`pruning_trial`
    (step = epoch) and stop the run with :class:`TrialPrunedError` when the trial's pruner
    says so; Optuna's own integrations cover Lightning and Keras, not mmengine.

    Priority LOWEST: the epoch's history row and best checkpoint are written first.  The last
    epoch is never pruned (the run has finished; its value counts).  No trial: no-op.
    """

    priority = 'LOWEST'

    def __init__(self, metric: str = 'coco/AP'):
        self.metric = metric

    def after_val_epoch(self, runner, metrics=None):
        trial = _PRUNING["trial"]
        if trial is None or not metrics or metrics.get(self.metric) is None:
            return
        value = float(metrics[self.metric])
        trial.report(value, runner.epoch)
        if runner.epoch < runner.max_epochs and trial.should_prune():
            raise TrialPrunedError(f"pruned by the search after epoch {runner.epoch}/{runner.max_epochs} "
                                   f"({self.metric} {value:.4f})")
