"""The report's one verdict rule: a paired 95 % t-interval that must exclude zero."""

import pytest

from segstudy.report.common import table2_metric
from segstudy.report.sweep import mean_std, seed_verdict
from segstudy.report.verdict import mean_interval, paired_interval, ratio_interval, verdict


def test_a_consistent_paired_gain_is_called_better():
    a, b = [0.82, 0.85, 0.80, 0.84, 0.83, 0.81], [0.80, 0.83, 0.78, 0.82, 0.81, 0.79]
    assert "**better**" in verdict(a, b, "test slices")
    assert "**worse**" in verdict(b, a, "test slices")


def test_lower_is_better_flips_the_direction():
    assert "**better**" in verdict([0.1, 0.2, 0.15], [0.3, 0.4, 0.35], "seeds",
                                   higher_is_better=False)


def test_a_gain_that_changes_sign_across_pairs_is_no_difference_detectable():
    text = verdict([0.80, 0.90, 0.70], [0.85, 0.80, 0.75], "seeds")
    assert "**no difference detectable** (±" in text and "over 3 seeds" in text


def test_one_pair_gives_no_verdict():
    assert "**no verdict**" in verdict([0.85], [0.80], "seeds")


def test_the_interval_is_the_students_t_interval_of_the_differences():
    mean, _low, high = paired_interval([0.3, 0.5, 0.4, 0.6], [0.2, 0.5, 0.3, 0.4])
    # d = 0.1, 0, 0.1, 0.2: sd 0.08165, t(0.975, 3) = 3.1824
    assert mean == pytest.approx(0.1)
    assert high - mean == pytest.approx(3.1824 * 0.08165 / 2, abs=1e-4)


def test_two_seeds_of_one_sign_are_not_enough_for_a_claim():
    assert "**no difference detectable**" in verdict([0.90, 0.85], [0.80, 0.84], "seeds")


def test_seed_verdict_pairs_configurations_by_seed():
    a = {"per_seed": {"42": {"test": {"iou": 0.9}}, "43": {"test": {"iou": 0.91}},
                      "44": {"test": {"iou": 0.92}}}}
    b = {"per_seed": {"43": {"test": {"iou": 0.80}}, "42": {"test": {"iou": 0.81}},
                      "44": {"test": {"iou": 0.82}}}}
    assert "**better**" in seed_verdict(a, b) and "over 3 seeds" in seed_verdict(a, b)


def test_mean_std_prints_the_spread_only_when_there_is_one():
    assert mean_std(0.81234, 0.0123) == "0.812 ± 0.012"
    assert mean_std(0.81234, None) == "0.812"


def test_table_2_falls_back_to_a_trained_target_and_says_so():
    assert table2_metric({"metric": "iou", "metrics": ["percent", "iou"]}) == ("iou", None)
    metric, note = table2_metric({"metric": "iou", "metrics": ["percent"]})
    assert metric == "percent" and "`gan.metric=iou` was not trained" in note


def test_mean_interval_is_the_students_t_interval_of_the_mean():
    mean, low, high = mean_interval([1.0, 2.0, 3.0])  # sd 1, t(0.975, 2) = 4.3027
    assert mean == pytest.approx(2.0)
    assert high - mean == pytest.approx(4.3027 / 3**0.5, abs=1e-4)
    assert mean - low == pytest.approx(high - mean)
    with pytest.raises(ValueError):
        mean_interval([0.8])


def test_ratio_interval_with_one_item_per_cluster_is_the_mean_interval():
    values = [0.2, 0.9, 0.5, 0.7]
    assert ratio_interval(values, [1, 1, 1, 1]) == pytest.approx(mean_interval(values))


def test_ratio_interval_widens_when_clusters_disagree():
    # two patients of 10 slices each: alike (mean IoU 0.6 and 0.62), then unlike (0.2 and 1.0)
    alike = ratio_interval([6.0, 6.2], [10, 10])
    unlike = ratio_interval([2.0, 10.0], [10, 10])
    assert alike[0] == pytest.approx(0.61) and unlike[0] == pytest.approx(0.6)
    assert unlike[2] - unlike[1] > 10 * (alike[2] - alike[1])
    with pytest.raises(ValueError):
        ratio_interval([1.0], [2])
