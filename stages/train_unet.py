"""DVC stage: train one data set's U-Net → models/<dataset>/unet.keras (+ unet.json)."""

from segstudy.params import check_dataset, load_params, section
from segstudy.stage import run_stage
from segstudy.training.fit import train_unet


def main(argv: list[str]) -> None:
    dataset = check_dataset(argv[0])
    params = load_params()
    summary = train_unet(
        dataset,
        f"data/prepared/{dataset}",
        section(params, f"model.{dataset}"),
        section(params, f"train.{dataset}"),
        int(section(params, "seed")),
        out_dir=f"models/{dataset}",
        live_dir=f"plots/{dataset}/unet",
        empty_iou=float(section(params, "evaluate.empty_iou")),
    )
    print(
        f"{dataset}: best val IoU {summary['best_val_iou']:.4f} at epoch {summary['best_epoch']}"
        f"/{summary['epochs']}, {summary['train_images_per_second']} img/s"
    )


if __name__ == "__main__":
    run_stage(main)
