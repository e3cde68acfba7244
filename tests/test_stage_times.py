"""benchmarks/stage_times.py: the per-stage table of a timed `make study`."""

from tests.conftest import load_benchmark

stage_times = load_benchmark("stage_times")


def test_each_stage_runs_until_the_next_starts_and_the_last_until_end():
    log = ["09:00:00 START abc", "09:00:01 Running stage 'download@lgg':", "09:00:05 > python x",
           "09:01:01 Running stage 'train_unet@lgg':", "no time stamp here",
           "09:11:01 END rc=0 elapsed=661 s"]
    assert stage_times.stage_times(log) == [("download@lgg", 60.0), ("train_unet@lgg", 600.0)]


def test_a_run_past_midnight_counts_forward():
    log = ["23:59:00 Running stage 'report':", "00:01:00 END rc=0"]
    assert stage_times.stage_times(log) == [("report", 120.0)]
