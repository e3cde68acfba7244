"""DVC stage: train one data set's U-Net under a recipe (``segstudy.recipes``; default
``paper``), once per seed in the recipe's ``train.seeds`` →
models/<dataset>/<name>-seeds/seed<S>.keras; the first seed (with ``train.ensemble``: the
average of all seeds) also as models/<dataset>/<name>.keras, where <name> is ``unet`` for the
paper's recipe, else the recipe's name (``strong``)."""

from pathlib import Path

from segstudy import layout
from segstudy.params import check_dataset, load_params, section
from segstudy.recipes import PAPER, resolve
from segstudy.stage import run_stage
from segstudy.training.seeds import check_seeds, seeded_stage


def main(argv: list[str]) -> None:
    dataset = check_dataset(argv[0])
    params = load_params()
    recipe = resolve(params, dataset, argv[1] if len(argv) > 1 else PAPER)
    train_cfg, name = dict(recipe.train), recipe.model_name
    seeds = check_seeds(train_cfg.pop("seeds", None), f"train.{dataset}.seeds")
    averaged = bool(train_cfg.pop("ensemble", False)) and len(seeds) > 1

    def trainer():  # TensorFlow starts here, after the params are checked
        from segstudy.training.fit import train_unet

        def one(seed: int, out: Path) -> dict:
            return train_unet(
                dataset, recipe.prepared, recipe.model, train_cfg, seed, out_model=out,
                live_dir=layout.curves(dataset, name, seed),
                empty_iou=float(section(params, "evaluate.empty_iou")), keep_state=True,
                recall_floor=recipe.recall_floor, postprocess=recipe.postprocess, name=name)
        return one

    def ensemble(seed_models: list[Path], out: Path) -> dict:
        from segstudy.models.unet import mask_range
        from segstudy.training.ensemble import publish_ensemble

        return publish_ensemble(seed_models, out, recipe.prepared,
                                mask_range(recipe.model["output_activation"]), train_cfg["tile"],
                                recipe.recall_floor, recipe.postprocess, dataset)

    seeded_stage(dataset, name, seeds, recipe.prepared, trainer, ensemble if averaged else None)


if __name__ == "__main__":
    run_stage(main)
