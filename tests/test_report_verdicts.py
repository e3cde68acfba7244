"""The per-target verdict: a difference is only called one when it exceeds the seed spread."""

from segstudy.report.build import mean_std, seed_verdict, table2_metric


def test_a_difference_within_the_seed_spread_is_no_difference():
    assert "**no difference**" in seed_verdict(0.80, 0.02, 0.79, 0.01, n=3)


def test_a_difference_beyond_the_spread_is_called_better_or_worse():
    assert "**better**" in seed_verdict(0.85, 0.01, 0.80, 0.02, n=3)
    assert "**worse**" in seed_verdict(0.75, 0.01, 0.80, 0.02, n=3)


def test_one_seed_gives_no_verdict():
    assert "**no verdict**" in seed_verdict(0.85, None, 0.80, None, n=1)


def test_mean_std_prints_the_spread_only_when_there_is_one():
    assert mean_std(0.81234, 0.0123) == "0.812 ± 0.012"
    assert mean_std(0.81234, None) == "0.812"


def test_table_2_falls_back_to_a_trained_target_and_says_so():
    assert table2_metric({"metric": "iou", "metrics": ["percent", "iou"]}) == ("iou", None)
    metric, note = table2_metric({"metric": "iou", "metrics": ["percent"]})
    assert metric == "percent" and "`gan.metric=iou` was not trained" in note
