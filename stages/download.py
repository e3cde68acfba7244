"""DVC stage: fetch and validate one raw data set into data/raw/<dataset>."""

from segstudy import layout
from segstudy.data.sources import download
from segstudy.params import check_dataset, load_params, section
from segstudy.stage import run_stage


def main(argv: list[str]) -> None:
    dataset = check_dataset(argv[0])
    download(dataset, section(load_params(), f"download.{dataset}"), layout.raw(dataset))


if __name__ == "__main__":
    run_stage(main)
