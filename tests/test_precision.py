"""``precision: auto``: bf16 only where the hardware computes it natively; the policy used and
the CPU are recorded in each model's sidecar."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from segstudy import SegstudyError
from segstudy import precision as prec
from segstudy.precision import cpu_info, resolve_precision

AMX = {"fpu", "avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"}
AVX512_BF16 = {"avx2", "avx512f", "avx512_bf16"}
AVX2_ONLY = {"fpu", "sse4_2", "avx", "avx2", "fma"}  # e.g. AMD EPYC (Zen 2/3)


@pytest.mark.parametrize(("flags", "accelerator", "expected"), [
    (AMX, False, "mixed_bfloat16"),
    (AVX512_BF16, False, "mixed_bfloat16"),
    (AVX2_ONLY, False, "float32"),
    ({"avx2", "avx512f"}, False, "float32"),  # AVX-512 without its bf16 extension
    (AVX2_ONLY, True, "mixed_bfloat16"),      # a GPU under JAX or TensorFlow
    (set(), False, "float32"),                # no /proc/cpuinfo (macOS, Windows)
])
def test_auto_picks_bf16_only_on_native_bf16_hardware(flags, accelerator, expected):
    assert resolve_precision("auto", flags, accelerator) == expected


@pytest.mark.parametrize("flags", [AMX, AVX2_ONLY])
def test_explicit_policies_are_honoured_on_any_hardware(flags):
    assert resolve_precision("float32", flags, False) == "float32"
    assert resolve_precision("mixed_bfloat16", flags, False) == "mixed_bfloat16"


def test_explicit_bf16_without_bf16_units_warns_once(caplog, monkeypatch):
    monkeypatch.setattr(prec, "_WARNED", set())
    with caplog.at_level(logging.WARNING, logger="segstudy.precision"):
        resolve_precision("mixed_bfloat16", AVX2_ONLY, False)
        resolve_precision("mixed_bfloat16", AVX2_ONLY, False)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "several times slower" in lines[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="segstudy.precision"):
        resolve_precision("mixed_bfloat16", AMX, False)
    assert not caplog.records


def test_an_unknown_precision_is_refused():
    with pytest.raises(SegstudyError, match="precision: expected one of auto"):
        resolve_precision("fp16", AMX, False)


def test_cpu_info_reads_model_and_flags(tmp_path: Path):
    fake = tmp_path / "cpuinfo"
    fake.write_text("processor\t: 0\nmodel name\t: AMD EPYC 7B13 64-Core Processor\n"
                    "flags\t\t: fpu sse4_2 avx avx2 fma\n\nprocessor\t: 1\n"
                    "model name\t: AMD EPYC 7B13 64-Core Processor\nflags\t\t: fpu avx2\n")
    model, flags = cpu_info.__wrapped__(str(fake))
    assert model == "AMD EPYC 7B13 64-Core Processor"
    assert "avx2" in flags and "amx_bf16" not in flags


@pytest.mark.parametrize(("flags", "expected"), [(AVX2_ONLY, "float32"), (AMX, "mixed_bfloat16")])
def test_the_sidecar_records_the_policy_used_and_the_cpu(tmp_path, monkeypatch, flags, expected):
    from segstudy.data.prepare import prepare
    from segstudy.training.fit import train_unet
    from tests.conftest import TINY_UNET, write_lgg

    monkeypatch.setattr(prec, "cpu_info", lambda: ("Fake CPU 9000", frozenset(flags)))
    monkeypatch.setattr(prec, "accelerator_present", lambda: False)
    raw = write_lgg(tmp_path / "raw", cases=3, slices=4).parent
    prep = {"resize_to": None, "normalise": "per_channel",
            "split": {"by": "slice", "counts": [8, 2, 2]}}
    prepare("lgg", raw, tmp_path / "prepared", prep, seed=1)
    cfg = {"loss": "mse", "learning_rate": 0.001, "batch_size": 4, "epochs": 1,
           "steps_per_epoch": 2, "tile": None, "precision": "auto",
           "augment": {"flip": False, "rot90": False, "elastic": False, "affine": False}}
    summary = train_unet("lgg", tmp_path / "prepared", TINY_UNET, cfg, seed=1,
                         out_model=tmp_path / "m" / "unet.keras", live_dir=tmp_path / "live",
                         resume_root=tmp_path / "resume", empty_iou=1.0)
    sidecar = json.loads((tmp_path / "m" / "unet.json").read_text())
    assert summary["precision"] == sidecar["precision"] == expected
    assert sidecar["precision_requested"] == "auto"
    assert sidecar["cpu"]["model"] == "Fake CPU 9000"
    assert ("amx_bf16" in sidecar["cpu"]["flags"]) == ("amx_bf16" in flags)
