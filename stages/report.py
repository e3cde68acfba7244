"""DVC stage: write report/REPORT.md and its figures from the evaluation outputs."""

from segstudy import layout
from segstudy.params import load_params
from segstudy.report.build import build_report
from segstudy.stage import run_stage


def main(argv: list[str]) -> None:
    print(f"wrote {build_report(load_params(), layout.REPORT)}")


if __name__ == "__main__":
    run_stage(main)
