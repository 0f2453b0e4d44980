"""Optuna search: trials are ordinary runs in the results format, the pruning hook stops a
trial after a validation, and a bad space fails before any training."""
import json
import math
from pathlib import Path

import pytest

from tests.conftest import QUICK

optuna = pytest.importorskip("optuna")

SPACE = {"lr": ["log", 1e-4, 1e-2], "batch_size": ["int", 4, 8, 4]}
RUN = dict(budget="smoke", device="cpu", shared_knobs=QUICK, num_workers=0, verbose=False)


def _load(results, study):
    return optuna.load_study(study_name=study, storage=f"sqlite:///{results / 'search' / f'{study}.db'}")


def test_search_trials_are_runs_in_the_results_format(tiny_cats, tmp_path):
    from catpose_lib.runs.results import load_block_results
    from catpose_lib.workers.search import run_search

    results = tmp_path / "results"
    out = run_search(tiny_cats, results, study="tiny", space=SPACE, n_trials=2, pruner="none", sampler_seed=0, **RUN)
    assert out["storage"] == f"sqlite:///{(results / 'search' / 'tiny.db').resolve()}"
    assert (results / "search" / "tiny.db").is_file() and out["block"] == "search/tiny"
    assert out["longest_epochs"] == 2 and out["trained_epochs"] == 4   # smoke: 2 epochs a trial

    study = _load(results, "tiny")
    trials = study.get_trials()
    assert [t.number for t in trials] == [0, 1]
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    runs = {r["no"]: r for r in load_block_results(results, "search/tiny")}
    assert sorted(runs) == [0, 1]
    for t in trials:
        r = runs[t.number]
        path = results / "search" / "tiny" / f"{t.number:02d}_s0.json"
        assert json.loads(path.read_text())["key"] == r["key"] == t.user_attrs["key"]
        assert t.user_attrs["result"] == str(path) and t.user_attrs["status"] == "finished"
        assert r["status"] == "finished" and r["block"] == "search/tiny" and r["policy"] == "Search"
        assert t.value == r["best"]["AP"] and 0.0 <= t.value <= 1.0
        assert r["experiment_knobs"] == t.params and 1e-4 <= t.params["lr"] <= 1e-2
        assert t.params["batch_size"] in (4, 8) and r["batch_size"] == t.params["batch_size"]
        assert r["parameter"] == f"lr {t.params['lr']:.3g}, bs {t.params['batch_size']}"
        assert r["shared_knobs"] == QUICK and r["max_epochs"] == 2 and len(r["history"]) == 2
        assert t.intermediate_values == {h["epoch"]: h["AP"] for h in r["history"]}
        cfg = (results / "search" / "tiny" / f"{t.number:02d}_s0.py").read_text()
        assert "OptunaPruningHook" in cfg and f"lr={t.params['lr']!r}" in cfg.replace(" ", "")
    csv = (results / "search" / "tiny.csv").read_text().splitlines()
    assert len(csv) == 3 and csv[0].startswith("no,seed,block")
    assert study.user_attrs["protocol"]["space"] == SPACE

    # the study holds its 2 trials: asked for 2 again, nothing trains; another protocol is refused
    again = run_search(tiny_cats, results, study="tiny", space=SPACE, n_trials=2, pruner="none", **RUN)
    assert len(again["study"].trials) == 2
    from catpose_lib.errors import ParameterError

    with pytest.raises(ParameterError, match="another space"):
        run_search(tiny_cats, results, study="tiny", space={"lr": ["log", 1e-4, 1e-3]}, n_trials=3, **RUN)
    assert len(_load(results, "tiny").trials) == 2


def test_pruning_hook_stops_a_trial_after_its_first_validation(tiny_cats, tmp_path):
    from catpose_lib.workers.search import run_search

    results = tmp_path / "results"
    always = optuna.pruners.ThresholdPruner(lower=2.0)  # AP is never >= 2: every report prunes
    out = run_search(tiny_cats, results, study="pruned", space={"lr": ["log", 1e-4, 1e-2]}, n_trials=1,
                     pruner=always, **RUN)
    (t,) = out["study"].trials
    assert t.state == optuna.trial.TrialState.PRUNED
    (r,) = out["results"]
    assert r["status"] == "pruned" and r["message"].startswith("pruned by the search after epoch 1/2")
    assert [h["epoch"] for h in r["history"]] == [1]            # stopped after the first validation
    assert t.intermediate_values == {1: r["history"][0]["AP"]} and t.user_attrs["epochs_trained"] == 1
    assert out["trained_epochs"] == 1
    # a pruned run never resumes: its work dir keeps the best checkpoint alone
    assert [p.name for p in Path(r["work_dir"]).glob("*.pth")] == [Path(r["checkpoint"]).name]
    assert not (Path(r["work_dir"]) / "last_checkpoint").exists()

    # a pruned run is kept: the same trial again is not trained, and stays pruned
    from catpose_lib.configs import SEARCH_CONFIG
    from catpose_lib.recipe.experiments import Experiment
    from catpose_lib.runs.run import RunRequest, execute

    exp = Experiment(0, "search/pruned", "Search", r["parameter"], r["experiment_knobs"], ref_no=-1)
    again = execute(RunRequest(experiment=exp, data_root=str(tiny_cats), results_dir=str(results), budget="smoke",
                               device="cpu", shared_knobs=QUICK, num_workers=0, verbose=False,
                               config=str(SEARCH_CONFIG)))
    assert again["skipped"] and again["status"] == "pruned" and again["key"] == r["key"]


def test_hook_reports_each_validation_and_never_prunes_the_last(monkeypatch):
    """The hook alone, with a fake trial and runner: report(AP, epoch), pruned only before the last epoch."""
    from catpose_lib.runs.hooks import OptunaPruningHook, TrialPrunedError, pruning_trial

    class Trial:
        reports = []

        def report(self, value, step):
            self.reports.append((value, step))

        def should_prune(self):
            return True

    class Runner:
        epoch, max_epochs = 3, 3

    hook, trial = OptunaPruningHook(), Trial()
    hook.after_val_epoch(Runner(), {"coco/AP": 0.5})           # no active trial: nothing
    with pruning_trial(trial):
        hook.after_val_epoch(Runner(), {"coco/AP": 0.25})      # the last epoch: reported, not pruned
        Runner.epoch = 2
        with pytest.raises(TrialPrunedError, match=r"after epoch 2/3 \(coco/AP 0.1250\)"):
            hook.after_val_epoch(Runner(), {"coco/AP": 0.125})
    assert trial.reports == [(0.25, 3), (0.125, 2)]


@pytest.mark.parametrize("space, names", [
    ({"lr": ["log", 1e-4, 1e-2], "learning_rate": ["log", 1e-4, 1e-2]}, "unknown experiment knob(s) ['learning_rate']"),
    ({"lr": ["log", 0, 1e-2]}, "knob 'lr': needs 0 < low <= high"),
    ({"batch_size": ["int", 16, 8]}, "knob 'batch_size': needs low <= high"),
    ({"optimizer": ["choice", ["Adam"]]}, "knob 'optimizer': a spec starts with one of log, float, int, cat"),
    ({"optimizer": ["cat", "Adam"]}, "knob 'optimizer': needs [\"cat\", [choice, ...]]"),
    ({"sigma": ["float", "1", 3]}, "knob 'sigma': needs [\"float\", low, high(, step)] with numbers"),
    ({"input_size": ["cat", [96, 100]]}, "knob 'input_size': values (and step) are multiples of 32 px"),
    ({"scale_factor": ["float", 0.2, 1.2]}, "knob 'scale_factor': sampled as s in (0, 1)"),
    ({"input_size": ["cat", [128, 256]]}, "knob(s) ['heatmap_size', 'input_size'] both searched and fixed"),
    ('{"lr": ["log", 1e-4, 1e-2]', "not JSON"),
])
def test_bad_space_fails_before_any_training(tiny_cats, tmp_path, space, names):
    from catpose_lib.errors import ParameterError
    from catpose_lib.workers.search import run_search

    with pytest.raises(ParameterError) as err:
        run_search(tiny_cats, tmp_path / "results", study="bad", space=space, n_trials=2, **RUN)
    message = str(err.value)
    assert message.startswith("parameter 'space' = ") and names in message and "\n" not in message
    assert not (tmp_path / "results").exists()                  # no study, no run dir


def test_search_command_names_the_bad_knob(tiny_cats, tmp_path, capsys):
    from catpose_lib.cli import main

    space = tmp_path / "space.json"
    space.write_text(json.dumps({"lr": ["log", 1e-4, 1e-2], "rotate": ["float", 0, 40]}))
    rc = main(["search", "--data", str(tiny_cats), "--results", str(tmp_path / "r"), "--space", str(space),
               "--budget", "smoke", "--device", "cpu", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err.startswith("error: parameter 'space'") and "['rotate']" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_space_sampling_and_knobs():
    from catpose_lib.workers.search_space import DEFAULT_SPACE, check_space, describe, space_max, suggest, trial_knobs

    space = check_space(None)
    assert space == DEFAULT_SPACE and space_max(space, "epochs") == 200 and space_max(space, "input_size") == 256
    trial = optuna.trial.FixedTrial(dict(lr=3e-4, batch_size=24, epochs=150, sigma=2.0, rotate_factor=40.0,
                                         scale_factor=0.25, halfbody_prob=0.3, shift_factor=0.15, shift_prob=0.3,
                                         optimizer="AdamW", input_size=192))
    params = suggest(trial, space)
    knobs = trial_knobs(params)
    assert knobs["scale_factor"] == (0.75, 1.25) and knobs["heatmap_size"] == 48 and knobs["epochs"] == 150
    assert describe(params).startswith("lr 0.0003, bs 24, ep 150, sigma 2, rot 40, scale 0.25")

    from mmengine.config import Config  # the knobs make the baseline config the trial trains

    from catpose_lib.configs import SEARCH_CONFIG
    from catpose_lib.recipe.knobs import apply_knobs

    cfg = apply_knobs(Config.fromfile(str(SEARCH_CONFIG)), knobs)
    bbox = next(t for t in cfg.train_dataloader.dataset.pipeline if t["type"] == "RandomBBoxTransform")
    assert bbox["scale_factor"] == (0.75, 1.25) and bbox["rotate_factor"] == 40.0 and bbox["shift_factor"] == 0.15
    assert cfg.codec["input_size"] == (192, 192) and cfg.codec["heatmap_size"] == (48, 48) and cfg.codec["sigma"] == 2.0
    assert cfg.optim_wrapper.optimizer.type == "AdamW" and math.isclose(cfg.optim_wrapper.optimizer.lr, 3e-4)
    assert cfg.train_cfg.max_epochs == 150 and cfg.train_dataloader.batch_size == 24


def test_search_block_and_parameters(tmp_path):
    from catpose_lib.errors import ParameterError
    from catpose_lib.recipe.experiments import resolve_block, search_block
    from catpose_lib.runs.results import result_path
    from catpose_lib.workers.search import check_search_parameters

    assert resolve_block("search/tiny") == search_block("tiny") == "search/tiny"
    assert result_path(tmp_path, "search/tiny", 3, 0) == tmp_path / "search" / "tiny" / "03_s0.json"
    for bad in ("../up", "a/b", ""):
        with pytest.raises(ParameterError, match="parameter 'study'"):
            check_search_parameters(study=bad)
    for kwargs, name in ((dict(pruner="asha"), "pruner"), (dict(n_trials=0), "n_trials"),
                         (dict(storage="search.db"), "storage"), (dict(n_trials=None), "n_trials"),
                         (dict(budget=0), "budget"), (dict(timeout=-1), "timeout")):
        with pytest.raises(ParameterError, match=f"parameter '{name}'"):
            check_search_parameters(**kwargs)


def test_trials_table_and_optuna_figures(tmp_path):
    """The report's table and plots from a study's trials, without training (made-up trials)."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution
    from optuna.trial import TrialState, create_trial

    from catpose_lib.report.search_report import save_search_figures, search_verdict, trials_table
    from tests.test_notebooks import _png_size

    dists = dict(lr=FloatDistribution(1e-5, 1e-2, log=True), optimizer=CategoricalDistribution(["Adam", "AdamW"]))
    study = optuna.create_study(direction="maximize")
    rows = [(TrialState.COMPLETE, 0.1, 1e-3, "Adam", 4), (TrialState.PRUNED, 0.0, 1e-5, "AdamW", 1),
            (TrialState.COMPLETE, 0.3, 3e-3, "AdamW", 4)]
    for state, value, lr, opt, epochs in rows:
        study.add_trial(create_trial(state=state, value=value if state == TrialState.COMPLETE else None,
                                     params=dict(lr=lr, optimizer=opt), distributions=dists,
                                     intermediate_values={e: value for e in range(1, epochs + 1)},
                                     user_attrs=dict(status=state.name.lower(), epochs_trained=epochs)))
    table = trials_table(study)
    assert list(table.columns) == ["number", "state", "AP", "lr", "optimizer", "run status", "epochs", "duration"]
    assert table["state"].tolist() == ["COMPLETE", "PRUNED", "COMPLETE"] and table["epochs"].tolist() == [4, 1, 4]
    assert table.loc[2, "AP"] == 0.3 and table.loc[1, "optimizer"] == "AdamW"
    assert search_verdict(study, dict(number=2, AP=0.3, params=study.best_params), 9) == (
        "Best: trial 2, AP 0.3000 with {'lr': 0.003, 'optimizer': 'AdamW'} (3 trials: 2 complete, 1 pruned; "
        "9 training epochs).")
    paths = save_search_figures(study, tmp_path / "figs")
    assert sorted(paths) == ["history", "importance", "parallel"]
    for path in paths.values():
        w, h = _png_size(path)
        assert w >= 700 and h >= 400

    one = optuna.create_study(direction="maximize")   # importance needs two finished trials: said in the figure
    one.add_trial(study.trials[0])
    paths = save_search_figures(one, tmp_path / "one")
    assert all(_png_size(p)[0] >= 700 for p in paths.values())
