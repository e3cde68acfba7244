"""DVC stage: train one data set's U-Net under a recipe (``segstudy.recipes``; default
``paper``), once per seed in the recipe's ``train.seeds`` →
models/<dataset>/<name>-seeds/seed<S>.keras; the first seed also as
models/<dataset>/<name>.keras, where <name> is ``unet`` for the paper's recipe, else the
recipe's name (``strong``)."""

from pathlib import Path

from segstudy import layout
from segstudy.data.prepared import Prepared
from segstudy.params import check_dataset, load_params, section
from segstudy.recipes import PAPER, resolve
from segstudy.stage import run_stage
from segstudy.training.seeds import check_seeds


def main(argv: list[str]) -> None:
    dataset = check_dataset(argv[0])
    params = load_params()
    recipe = resolve(params, dataset, argv[1] if len(argv) > 1 else PAPER)
    train_cfg, name = dict(recipe.train), recipe.model_name
    seeds = check_seeds(train_cfg.pop("seeds", None), f"train.{dataset}.seeds")
    Prepared(recipe.prepared)  # no prepared data: fail now, not after TF starts
    # imported here, after the params are checked: a bad value fails in a second, not after
    # TensorFlow's start-up
    from segstudy.training.fit import train_unet
    from segstudy.training.seeds import train_seeds

    def one(seed: int, out: Path) -> dict:
        return train_unet(
            dataset, recipe.prepared, recipe.model, train_cfg, seed, out_model=out,
            live_dir=layout.curves(dataset, name, seed),
            empty_iou=float(section(params, "evaluate.empty_iou")), keep_state=True,
            recall_floor=recipe.recall_floor, postprocess=recipe.postprocess, name=name)

    summary = train_seeds(seeds, layout.model(dataset, name), one)
    for s in summary["seeds"]:
        print(f"{dataset} {name} seed {s['seed']}: best val IoU {s['best_val_iou']:.4f} at "
              f"epoch {s['best_epoch']}/{summary['epochs']} (selected on "
              f"{summary['selected_on']}: {summary['best_val_score']:.4f}), "
              f"{s['wall_seconds_this_run']} s")


if __name__ == "__main__":
    run_stage(main)
