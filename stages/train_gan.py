"""DVC stage: train one data set's U-Net as the generator of the metric GAN, for one
discriminator target, under a GAN recipe (``paper`` by default, or ``fair``: ``gan.fair``), for
every seed → models/<dataset>/gan-<metric>.keras or gan-fair-<metric>.keras (+ -seeds/)."""

from pathlib import Path

from segstudy import SegstudyError, layout
from segstudy.config import GAN_TARGETS, PAPER
from segstudy.params import check_dataset, choice, load_params, section, tumour_rule_floor
from segstudy.recipes import GAN_FAIR, gan_config, gan_model_name
from segstudy.stage import run_stage
from segstudy.training.seeds import check_seeds, seeded_stage


def main(argv: list[str]) -> None:
    if len(argv) not in (2, 3):
        raise SegstudyError("usage: train_gan.py <dataset> <metric> [paper|fair]")
    dataset, metric = check_dataset(argv[0]), choice(argv[1], GAN_TARGETS, "the metric argument")
    recipe = choice(argv[2], (PAPER, GAN_FAIR), "the GAN recipe argument") if len(argv) == 3 \
        else PAPER
    params = load_params()
    gan_cfg = gan_config(params, dataset, metric, recipe)
    name = gan_model_name(metric, recipe)
    train_cfg = dict(section(params, f"train.{dataset}"))
    seeds = check_seeds(train_cfg.pop("seeds", None), f"train.{dataset}.seeds")

    def trainer():  # TensorFlow starts here, after the params are checked
        from segstudy.training.gan import train_gan

        def one(seed: int, out: Path) -> dict:
            return train_gan(
                dataset, layout.prepared(dataset), section(params, f"model.{dataset}"),
                train_cfg, gan_cfg, seed, out_model=out,
                live_dir=layout.curves(dataset, name, seed),
                empty_iou=float(section(params, "evaluate.empty_iou")),
                init_model=layout.seed_model(dataset, "unet", seed), keep_state=True,
                recall_floor=tumour_rule_floor(params, dataset), name=name)
        return one

    seeded_stage(dataset, name, seeds, layout.prepared(dataset), trainer)


if __name__ == "__main__":
    run_stage(main)
