"""DVC stage: evaluate one model (unet | control | gan-<metric> | gan-fair-<metric> | a recipe's,
e.g. strong) of one data set on every split of the data it was trained on, the published seed
in full and every seed's summary."""

from segstudy import SegstudyError, layout, recipes
from segstudy.config import GAN_TARGETS, PAPER
from segstudy.data.prepared import Prepared
from segstudy.params import check_dataset, load_params, section
from segstudy.recipes import GAN_FAIR, gan_model_name
from segstudy.stage import run_stage

MODELS = ("unet", "control", *(gan_model_name(m, r) for r in (PAPER, GAN_FAIR)
                                for m in GAN_TARGETS))


def main(argv: list[str]) -> None:
    dataset, model = check_dataset(argv[0]), argv[1]
    params = load_params()
    known = (*MODELS, *recipes.names(params, dataset)[1:])
    if model not in known:
        raise SegstudyError(f"unknown model {model!r}; choose one of {', '.join(known)}")
    prepared = recipes.recipe_of_model(params, dataset, model).prepared
    Prepared(prepared)  # no prepared data: fail now, not after TF starts
    # imported here, after the params are checked: a bad value fails in a second, not after
    # TensorFlow's start-up
    from segstudy.evaluate import evaluate

    result = evaluate(
        dataset, model, prepared, layout.model(dataset, model),
        section(params, "evaluate"), out_dir=layout.metrics_dir(dataset),
        pred_path=layout.predictions(dataset, model), live_dir=layout.eval_plots(dataset, model),
    )
    test = result["test"]
    print(f"{dataset}/{model} test: IoU {test['iou']:.4f}, percent {test['percent']:.2f}")


if __name__ == "__main__":
    run_stage(main)
