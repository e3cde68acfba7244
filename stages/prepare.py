"""DVC stage: normalise and split one data set into data/prepared/<dataset>."""

from segstudy import layout
from segstudy.data.prepare import prepare
from segstudy.params import check_dataset, load_params, section
from segstudy.stage import run_stage


def main(argv: list[str]) -> None:
    dataset = check_dataset(argv[0])
    params = load_params()
    prepare(
        dataset,
        layout.raw(dataset),
        layout.prepared(dataset),
        section(params, f"prepare.{dataset}"),
        int(section(params, "seed")),
    )


if __name__ == "__main__":
    run_stage(main)
