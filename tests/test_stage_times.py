"""benchmarks/stage_times.py: the per-stage table of a timed `make study`."""

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "stage_times", Path(__file__).parents[1] / "benchmarks" / "stage_times.py")
stage_times = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(stage_times)


def test_each_stage_runs_until_the_next_starts_and_the_last_until_end():
    log = ["09:00:00 START abc", "09:00:01 Running stage 'download@lgg':", "09:00:05 > python x",
           "09:01:01 Running stage 'train_unet@lgg':", "no time stamp here",
           "09:11:01 END rc=0 elapsed=661 s"]
    assert stage_times.stage_times(log) == [("download@lgg", 60.0), ("train_unet@lgg", 600.0)]


def test_a_run_past_midnight_counts_forward():
    log = ["23:59:00 Running stage 'report':", "00:01:00 END rc=0"]
    assert stage_times.stage_times(log) == [("report", 120.0)]
