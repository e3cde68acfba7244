"""DVC stage: train one data set's U-Net as the generator of the metric GAN."""

from segstudy import DATASETS
from segstudy.params import check_dataset, load_params, section
from segstudy.stage import run_stage
from segstudy.training.gan import check_metric, train_gan


def main(argv: list[str]) -> None:
    dataset = check_dataset(argv[0])
    params = load_params()
    gan = section(params, "gan")
    # gan.<key> applies to both data sets; gan.<dataset> holds each one's schedule.
    gan_cfg = {**{k: v for k, v in gan.items() if k not in DATASETS}, **gan[dataset]}
    check_metric(gan_cfg["metric"])  # fail before loading anything
    summary = train_gan(
        dataset,
        f"data/prepared/{dataset}",
        section(params, f"model.{dataset}"),
        section(params, f"train.{dataset}"),
        gan_cfg,
        int(section(params, "seed")),
        out_dir=f"models/{dataset}",
        live_dir=f"plots/{dataset}/gan",
        empty_iou=float(section(params, "evaluate.empty_iou")),
    )
    print(
        f"{dataset}: GAN ({summary['metric']}^{summary['metric_power']}) best val IoU "
        f"{summary['best_val_iou']:.4f} at epoch {summary['best_epoch']}/{summary['epochs']}"
    )


if __name__ == "__main__":
    run_stage(main)
