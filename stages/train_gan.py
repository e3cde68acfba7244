"""DVC stage: train one data set's U-Net as the generator of the metric GAN, for one
discriminator target and every seed → models/<dataset>/gan-<metric>.keras (+ -seeds/)."""

from pathlib import Path

from segstudy import DATASETS, SegstudyError, layout
from segstudy.config import METRIC_NAMES
from segstudy.params import check_dataset, choice, load_params, section, tumour_rule_floor
from segstudy.stage import run_stage
from segstudy.training.seeds import check_seeds, seeded_stage


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        raise SegstudyError("usage: train_gan.py <dataset> <metric>")
    dataset, metric = check_dataset(argv[0]), choice(argv[1], METRIC_NAMES, "the metric argument")
    params = load_params()
    gan = section(params, "gan")
    # gan.<key> applies to both data sets; gan.<dataset> holds each one's schedule.
    shared = {k: v for k, v in gan.items() if k not in (*DATASETS, "metric", "metrics")}
    gan_cfg = {**shared, **gan[dataset], "metric": metric}
    train_cfg = dict(section(params, f"train.{dataset}"))
    seeds = check_seeds(train_cfg.pop("seeds", None), f"train.{dataset}.seeds")

    def trainer():  # TensorFlow starts here, after the params are checked
        from segstudy.training.gan import train_gan

        def one(seed: int, out: Path) -> dict:
            return train_gan(
                dataset, layout.prepared(dataset), section(params, f"model.{dataset}"),
                train_cfg, gan_cfg, seed, out_model=out,
                live_dir=layout.curves(dataset, f"gan-{metric}", seed),
                empty_iou=float(section(params, "evaluate.empty_iou")),
                init_model=layout.seed_model(dataset, "unet", seed), keep_state=True,
                recall_floor=tumour_rule_floor(params, dataset))
        return one

    seeded_stage(dataset, f"gan-{metric}", seeds, layout.prepared(dataset), trainer)


if __name__ == "__main__":
    run_stage(main)
