"""DVC stage: evaluate one model (unet | control | gan-<metric>) of one data set on every
split, the published seed in full and every seed's summary."""

from segstudy import SegstudyError
from segstudy.config import METRIC_NAMES
from segstudy.params import check_dataset, load_params, section
from segstudy.stage import run_stage

MODELS = ("unet", "control", *(f"gan-{m}" for m in METRIC_NAMES))


def main(argv: list[str]) -> None:
    dataset, model = check_dataset(argv[0]), argv[1]
    if model not in MODELS:
        raise SegstudyError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    params = load_params()
    # imported here, after the params are checked: a bad value fails in a second, not after
    # TensorFlow's start-up
    from segstudy.evaluate import evaluate

    result = evaluate(
        dataset, model, f"data/prepared/{dataset}", f"models/{dataset}/{model}.keras",
        section(params, "evaluate"), out_dir=f"metrics/{dataset}",
        pred_path=f"predictions/{dataset}/{model}.npz", live_dir=f"plots/{dataset}/{model}_eval",
    )
    test = result["test"]
    print(f"{dataset}/{model} test: IoU {test['iou']:.4f}, percent {test['percent']:.2f}")


if __name__ == "__main__":
    run_stage(main)
