"""DVC stage: the control for the GAN — each seed's U-Net fine-tuned on ``control.loss`` (soft
IoU: the metric itself, made differentiable) with the GAN generator's exact schedule: same
epochs, steps, batch, learning rate, warm-up hold and model selection. The only difference
from the GAN is where the gradient comes from: the true metric instead of D's estimate of it.
→ models/<dataset>/control.keras (+ control-seeds/)."""

from pathlib import Path

from segstudy import layout
from segstudy.data.prepared import Prepared
from segstudy.params import check_dataset, load_params, section, tumour_rule_floor
from segstudy.stage import run_stage
from segstudy.training.seeds import check_seeds


def main(argv: list[str]) -> None:
    dataset = check_dataset(argv[0])
    params = load_params()
    base = dict(section(params, f"train.{dataset}"))
    seeds = check_seeds(base.pop("seeds", None), f"train.{dataset}.seeds")
    Prepared(layout.prepared(dataset))  # no prepared data: fail now, not after TF starts
    # imported here, after the params are checked: a bad value fails in a second, not after
    # TensorFlow's start-up
    from segstudy.training.fit import train_unet
    from segstudy.training.seeds import train_seeds
    gan = section(params, f"gan.{dataset}")
    cfg = {**base, "loss": section(params, "control.loss"),
           "learning_rate": float(gan["g_learning_rate"]), "epochs": int(gan["epochs"]),
           "steps_per_epoch": gan["steps_per_epoch"], "batch_size": int(gan["batch_size"]),
           "precision": section(params, "gan.precision")}

    def one(seed: int, out: Path) -> dict:
        return train_unet(
            dataset, layout.prepared(dataset), section(params, f"model.{dataset}"), cfg, seed,
            out_model=out, live_dir=layout.curves(dataset, "control", seed),
            empty_iou=float(section(params, "evaluate.empty_iou")), name="control",
            init_model=layout.seed_model(dataset, "unet", seed),
            hold_steps=int(section(params, "gan.d_warmup_steps")), keep_state=True,
            recall_floor=tumour_rule_floor(params, dataset))

    summary = train_seeds(seeds, layout.model(dataset, "control"), one)
    for s in summary["seeds"]:
        print(f"{dataset} control seed {s['seed']}: best val IoU {s['best_val_iou']:.4f} at "
              f"epoch {s['best_epoch']}/{summary['epochs']}")


if __name__ == "__main__":
    run_stage(main)
