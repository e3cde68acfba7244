"""DVC stage: train one data set's U-Net, once per seed in ``train.<dataset>.seeds`` →
models/<dataset>/unet-seeds/seed<S>.keras; the first seed also as models/<dataset>/unet.keras."""

from pathlib import Path

from segstudy import layout
from segstudy.data.prepared import Prepared
from segstudy.params import check_dataset, load_params, section, tumour_rule_floor
from segstudy.stage import run_stage
from segstudy.training.seeds import check_seeds


def main(argv: list[str]) -> None:
    dataset = check_dataset(argv[0])
    params = load_params()
    train_cfg = dict(section(params, f"train.{dataset}"))
    seeds = check_seeds(train_cfg.pop("seeds", None), f"train.{dataset}.seeds")
    Prepared(layout.prepared(dataset))  # no prepared data: fail now, not after TF starts
    # imported here, after the params are checked: a bad value fails in a second, not after
    # TensorFlow's start-up
    from segstudy.training.fit import train_unet
    from segstudy.training.seeds import train_seeds

    def one(seed: int, out: Path) -> dict:
        return train_unet(
            dataset, layout.prepared(dataset), section(params, f"model.{dataset}"), train_cfg,
            seed, out_model=out, live_dir=layout.curves(dataset, "unet", seed),
            empty_iou=float(section(params, "evaluate.empty_iou")), keep_state=True,
            recall_floor=tumour_rule_floor(params, dataset))

    summary = train_seeds(seeds, layout.model(dataset, "unet"), one)
    for s in summary["seeds"]:
        print(f"{dataset} unet seed {s['seed']}: best val IoU {s['best_val_iou']:.4f} at epoch "
              f"{s['best_epoch']}/{summary['epochs']}, {s['wall_seconds_this_run']} s")


if __name__ == "__main__":
    run_stage(main)
