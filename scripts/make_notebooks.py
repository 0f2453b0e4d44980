"""Write the clean notebook sources in notebooks/ (outputs stripped, one `parameters` cell).

The notebooks only hold parameters, calls into catpose_lib and rendering; edit this script
and re-run it (`.venv/bin/python scripts/make_notebooks.py`) rather than editing by hand,
so that the eight notebooks stay consistent.
"""
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO = Path(__file__).resolve().parents[1]
NB_DIR = REPO / "notebooks"
sys.path.insert(0, str(REPO))

from catpose_lib.engine.speed_defaults import DEFAULT_CHANNELS_LAST, DEFAULT_PRECISION  # noqa: E402

COMMON_PARAMETERS = f'''\
data_root = ""           # dataset root in the course layout, empty for the synthetic cats
scheme = None            # keypoint scheme cats17 or animalpose20, None for the dataset own
budget = "full"          # full is the reference study epochs, smoke, or a fraction such as 0.05
seeds = [0]              # several seeds give error bars and a noise estimate
device = "auto"          # auto, cpu or cuda
experiments = []         # run numbers of the block, empty for all
base = "best"            # best run of the previous block, or baseline
results_dir = "results"  # relative paths are relative to the project root
figures_dir = "figures"  # figures go to figures_dir/NN_block
overrides = {{}}           # knobs applied to every run, e.g. resnet_depth 18 for a quick look
synthetic = {{}}           # synthetic data parameters when data_root is empty, e.g. n_train
num_workers = None       # dataloader workers, None for the config default
precision = "{DEFAULT_PRECISION}"       # auto (bf16 where supported), bf16 or fp32: mixed precision autocast
channels_last = {DEFAULT_CHANNELS_LAST!r}     # channels-last memory format
'''

BLOCKS = {
    "01_augmentation": ("augmentation", "Data augmentation",
                        "Half-body, random shift, Albumentations (pixel-level) and photometric "
                        "distortion on top of the baseline's flip + scale/rotation."),
    "02_epochs": ("epochs", "Number of epochs", "100, 150 and 200 epochs; the LR steps move with the length."),
    "03_lr_batch": ("lr_batch", "Learning rate x batch size",
                    "lr in {1e-4, 5e-4, 1e-3} x batch size in {16, 24, 32, 48, 64} at 150 epochs, "
                    "then 175 / 200 epochs at (5e-4, 32)."),
    "04_resolution": ("resolution", "Input / heatmap resolution",
                      "128/32 -> 192/48 and 256/64, batch size at 256, 210 epochs, stronger augmentation."),
    "05_backbone": ("backbone", "Backbone", "ResNet-50 vs HRNet-W32 at several batch sizes."),
    "06_optimizer": ("optimizer", "Optimizer", "Adam vs Adamax, SGD (momentum 0.9) and AdamW."),
}


def _parameters_cell(source):
    cell = new_code_cell(source)
    cell.metadata["tags"] = ["parameters"]
    return cell


def _notebook(cells):
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = dict(name="python3", display_name="Python 3", language="python")
    nb.metadata["language_info"] = dict(name="python")
    return nb


def block_notebook(stem, block, title, text):
    return _notebook([
        new_markdown_cell(f"# {stem[:2]} — {title}\n\n{text}\n\n"
                          f"Run: `papermill notebooks/{stem}.ipynb results/notebooks/{stem}.ipynb "
                          "-p budget full -p data_root PATH`. Finished runs are skipped, "
                          "interrupted ones resume."),
        _parameters_cell(COMMON_PARAMETERS),
        new_code_cell("from IPython.display import Image, Markdown, display\n\n"
                      "from catpose_lib.report.block_report import run_block_report\n"
                      "from catpose_lib.report.paths import project_path"),
        new_code_cell(f"report = run_block_report(\n    {block!r}, data_root=data_root, scheme=scheme, "
                      "budget=budget, seeds=seeds, device=device,\n    experiments=experiments or None, "
                      "base=base, results_dir=project_path(results_dir),\n    figures_dir=project_path(figures_dir), "
                      "overrides=overrides, synthetic=synthetic,\n    num_workers=num_workers, precision=precision, channels_last=channels_last)"),
        new_markdown_cell("## Results (reference-style table)"),
        new_code_cell("print(f\"data: {report['data_root']}   base: {report['base']['name']} \"\n"
                      "      f\"(mAP {report['base_AP']})\")\nreport['table']"),
        new_markdown_cell("## Figures"),
        new_code_cell("for path in report['figures'].values():\n    print(path)\n"
                      "    display(Image(filename=str(path)))"),
        new_markdown_cell("## Verdict"),
        new_code_cell("Markdown(report['verdict']['text'])"),
    ])


def dataset_notebook():
    return _notebook([
        new_markdown_cell("# 00 — Dataset analysis\n\nImages and instances per split, instances per "
                          "image, box sizes, per-keypoint labelled rate, and sample images with "
                          "skeletons."),
        _parameters_cell('data_root = ""           # dataset root, empty for the synthetic cats\n'
                         'scheme = None\nresults_dir = "results"\nfigures_dir = "figures"\n'
                         'synthetic = {}\nn_samples = 8\n'),
        new_code_cell("from IPython.display import Image, display\n\n"
                      "from catpose_lib.report.dataset_report import run_dataset_report\n"
                      "from catpose_lib.report.paths import project_path\n\n"
                      "report = run_dataset_report(data_root, scheme=scheme, figures_dir=project_path(figures_dir),\n"
                      "                            results_dir=project_path(results_dir), synthetic=synthetic,\n"
                      "                            n_samples=n_samples)\nprint(report['data_root'])"),
        new_code_cell("for name, table in report['tables'].items():\n    print(name)\n    display(table)"),
        new_code_cell("display(Image(filename=str(report['figures']['samples'])))"),
    ])


def pretrain_notebook():
    return _notebook([
        new_markdown_cell("# 00 — Cross-species pretraining\n\nNo ImageNet weights can be downloaded "
                          "here, so the study starts from pose models pretrained on the other animals "
                          "of Animal-Pose (dogs, sheep, horses, cows; the cats' 20 keypoints): "
                          "ResNet-50 SimpleBaseline and HRNet-W32, same schedule "
                          "(`catpose_lib/configs/pretrain_animals.py`, which inherits the baseline). "
                          "Each writes a start checkpoint that cat runs take with `init`, its AP on "
                          "the held-out animals and its zero-shot AP on the cats' val split."),
        _parameters_cell('data = "../shared/datasets/animalpose_others"  # raw Animal-Pose folder or course root\n'
                         'zero_shot = "../shared/datasets/animalpose_cats"  # cats whose val split gives the zero-shot AP\n'
                         'backbones = ["resnet50", "hrnet_w32"]\n'
                         'budget = "full"          # full = 100 epochs, smoke, or a fraction\n'
                         'seed = 0\ndevice = "auto"\nresults_dir = "results"\nfigures_dir = "figures"\n'
                         'out_dir = None           # start checkpoints, None for ~/.cache/catpose/pretrained\n'
                         'overrides = {}           # knobs on top of the pretraining config\n'
                         'num_workers = None\n'
                         f'precision = "{DEFAULT_PRECISION}"\nchannels_last = {DEFAULT_CHANNELS_LAST!r}\n'),
        new_code_cell("from IPython.display import Image, display\n\n"
                      "from catpose_lib.report.paths import project_path\n"
                      "from catpose_lib.report.pretrain_report import run_pretrain_report\n\n"
                      "report = run_pretrain_report(project_path(data), project_path(results_dir), project_path(figures_dir),\n"
                      "    zero_shot=project_path(zero_shot) if zero_shot else None, backbones=backbones, out_dir=out_dir,\n"
                      "    budget=budget, seed=seed, device=device, overrides=overrides, num_workers=num_workers,\n"
                      "    precision=precision, channels_last=channels_last)\nreport['table']"),
        new_code_cell("display(Image(filename=str(report['figures']['heldout_ap'])))"),
    ])


def final_notebook():
    return _notebook([
        new_markdown_cell("# 07 — Final report\n\nThe study's path from the baseline to the final "
                          "model, keypoint overlays (baseline vs final), failure cases, per-keypoint "
                          "error, model complexity and runtime, and the test-set "
                          "`result_keypoints.json`."),
        _parameters_cell(COMMON_PARAMETERS + 'final = "best"           # best finished run of the study, or a run number\n'
                         'n_overlays = 4\nn_failures = 6\n'),
        new_code_cell("from IPython.display import Image, Markdown, display\n\n"
                      "from catpose_lib.report.final_report import run_final_report\n"
                      "from catpose_lib.report.paths import project_path\n\n"
                      "report = run_final_report(data_root=data_root, scheme=scheme, budget=budget, seeds=seeds,\n"
                      "    device=device, results_dir=project_path(results_dir), figures_dir=project_path(figures_dir),\n"
                      "    overrides=overrides, synthetic=synthetic, final=final, n_overlays=n_overlays,\n"
                      "    n_failures=n_failures, num_workers=num_workers, precision=precision,\n    channels_last=channels_last)"),
        new_markdown_cell("## The path from baseline to final"),
        new_code_cell("display(report['path_table'])\ndisplay(Image(filename=str(report['figures']['path'])))"),
        new_markdown_cell("## Baseline vs final on the same validation images"),
        new_code_cell("display(Image(filename=str(report['figures']['overlays'])))"),
        new_markdown_cell("## Failure cases (lowest OKS) and per-keypoint error"),
        new_code_cell("display(Image(filename=str(report['figures']['failures'])))\n"
                      "display(report['per_keypoint'])\n"
                      "display(Image(filename=str(report['figures']['per_keypoint'])))"),
        new_markdown_cell("## Complexity, runtime and the test-set predictions"),
        new_code_cell("display(report['complexity'])\nprint('test-set predictions:', report['result_keypoints'])"),
        new_code_cell("Markdown(report['summary'])"),
    ])


def main():
    NB_DIR.mkdir(exist_ok=True)
    notebooks = {"00_dataset": dataset_notebook(), "00_pretrain": pretrain_notebook(),
                 "07_final_report": final_notebook()}
    for stem, (block, title, text) in BLOCKS.items():
        notebooks[stem] = block_notebook(stem, block, title, text)
    for stem, nb in sorted(notebooks.items()):
        for i, cell in enumerate(nb.cells):  # stable ids: regenerating changes only what changed
            cell.id = f"{stem[:2]}-cell-{i:02d}"
        nbformat.validate(nb)
        nbformat.write(nb, NB_DIR / f"{stem}.ipynb")
        print("wrote", NB_DIR / f"{stem}.ipynb")


if __name__ == "__main__":
    main()
