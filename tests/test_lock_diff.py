"""benchmarks/lock_diff.py: which outputs of a rerun match a published dvc.lock."""

from tests.conftest import load_benchmark

lock_diff = load_benchmark("lock_diff")


def _lock(model_md5: str, curve_md5: str, metric_md5: str | None) -> dict:
    evaluate = {"deps": [{"path": "models/m.keras", "md5": model_md5}],
                "outs": [{"path": "metrics/m.json", "md5": metric_md5}] if metric_md5 else []}
    return {"schema": "2.0", "stages": {
        "train": {"deps": [{"path": "src/a.py", "md5": "s"}],
                  "outs": [{"path": "models/m.keras", "md5": model_md5},
                           {"path": "plots/m", "md5": curve_md5}]},
        "evaluate": evaluate}}


def test_a_restamped_model_with_identical_curves_and_scores_is_told_apart():
    rows = lock_diff.compare(_lock("k1", "c", "x"), _lock("k2", "c", "x"))
    assert rows == [
        {"stage": "train", "deps_changed": [], "same": ["plots/m"], "differ": ["models/m.keras"]},
        {"stage": "evaluate", "deps_changed": ["models/m.keras"], "same": ["metrics/m.json"],
         "differ": []}]


def test_an_output_the_rerun_lacks_counts_as_differing():
    rows = lock_diff.compare(_lock("k", "c", "x"), _lock("k", "c", None))
    assert rows[1]["differ"] == ["metrics/m.json"] and rows[1]["same"] == []
