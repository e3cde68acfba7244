"""DVC stage: normalise and split one data set into data/prepared/<dataset> (the paper's
recipe), or into data/prepared/<dataset>-<recipe> for another recipe (``segstudy.recipes``)."""

from segstudy import layout
from segstudy.data.prepare import prepare
from segstudy.params import check_dataset, load_params, section
from segstudy.recipes import PAPER, resolve
from segstudy.stage import run_stage


def main(argv: list[str]) -> None:
    dataset = check_dataset(argv[0])
    params = load_params()
    recipe = resolve(params, dataset, argv[1] if len(argv) > 1 else PAPER)
    prepare(dataset, layout.raw(dataset), recipe.prepared, recipe.prepare,
            int(section(params, "seed")))


if __name__ == "__main__":
    run_stage(main)
