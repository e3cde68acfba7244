"""DVC stage: the control for the GAN — each seed's U-Net fine-tuned on ``control.loss`` (soft
IoU: the metric itself, made differentiable) with the GAN generator's exact schedule: same
epochs, steps, batch, learning rate, warm-up hold and model selection. The only difference
from the GAN is where the gradient comes from: the true metric instead of D's estimate of it.
→ models/<dataset>/control.keras (+ control-seeds/)."""

from pathlib import Path

from segstudy import layout
from segstudy.params import check_dataset, load_params, section, tumour_rule_floor
from segstudy.stage import run_stage
from segstudy.training.seeds import check_seeds, seeded_stage


def main(argv: list[str]) -> None:
    dataset = check_dataset(argv[0])
    params = load_params()
    base = dict(section(params, f"train.{dataset}"))
    seeds = check_seeds(base.pop("seeds", None), f"train.{dataset}.seeds")
    base.pop("ensemble", None)  # the control publishes its first seed, as the GAN does
    gan = section(params, f"gan.{dataset}")
    cfg = {**base, "loss": section(params, "control.loss"),
           "learning_rate": float(gan["g_learning_rate"]), "epochs": int(gan["epochs"]),
           "steps_per_epoch": gan["steps_per_epoch"], "batch_size": int(gan["batch_size"]),
           "precision": section(params, "gan.precision")}

    def trainer():  # TensorFlow starts here, after the params are checked
        from segstudy.training.fit import train_unet

        def one(seed: int, out: Path) -> dict:
            return train_unet(
                dataset, layout.prepared(dataset), section(params, f"model.{dataset}"), cfg,
                seed, out_model=out, live_dir=layout.curves(dataset, "control", seed),
                empty_iou=float(section(params, "evaluate.empty_iou")), name="control",
                init_model=layout.seed_model(dataset, "unet", seed),
                hold_steps=int(section(params, "gan.d_warmup_steps")), keep_state=True,
                recall_floor=tumour_rule_floor(params, dataset))
        return one

    seeded_stage(dataset, "control", seeds, layout.prepared(dataset), trainer)


if __name__ == "__main__":
    run_stage(main)
