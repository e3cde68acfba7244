"""Which dtype policy training uses: ``precision: auto`` picks it from the hardware.

bfloat16 pays only where the hardware computes it natively. On a CPU with AMX-BF16 or
AVX512-BF16 (``/proc/cpuinfo`` flags ``amx_bf16`` / ``avx512_bf16``) and on a GPU,
``mixed_bfloat16`` is the faster policy; elsewhere (an AVX2-only AMD EPYC, measured: 1.4 vs
13.9 training img/s) oneDNN refuses bf16 and TensorFlow falls back to slow Eigen kernels, so
``float32`` is. The rule:

==============================  ======================================
hardware                        ``auto`` resolves to
==============================  ======================================
an accelerator (JAX or TF GPU)  ``mixed_bfloat16``
CPU flag amx_bf16/avx512_bf16   ``mixed_bfloat16``
any other CPU                   ``float32``
==============================  ======================================

Explicit ``float32`` and ``mixed_bfloat16`` are honoured; an explicit ``mixed_bfloat16``
without bf16 hardware logs one warning line. This module imports nothing heavy: the
accelerator probe imports the active Keras backend only when it is asked.
"""

from __future__ import annotations

import logging
import os
import platform
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from segstudy import SegstudyError
from segstudy.config import PRECISIONS

log = logging.getLogger(__name__)

BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")
# the flags a reader of a timing wants to see beside it
REPORTED_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")
_WARNED: set[str] = set()  # the slow-bf16 warning is one line per process


@lru_cache(maxsize=1)
def cpu_info(cpuinfo: str = "/proc/cpuinfo") -> tuple[str, frozenset[str]]:
    """The CPU's model name and its feature flags (empty where ``/proc/cpuinfo`` is absent)."""
    model, flags = platform.processor() or platform.machine(), frozenset()
    path = Path(cpuinfo)
    if path.is_file():
        for line in path.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "model name" and value.strip():
                model = value.strip()
            elif key == "flags" and not flags:
                flags = frozenset(value.split())
    return model, flags


def cpu_summary() -> dict[str, object]:
    """The CPU model and the bf16-relevant flags it has, for sidecars and benchmark headers."""
    model, flags = cpu_info()
    return {"model": model, "cores": os.cpu_count(),
            "flags": [f for f in REPORTED_FLAGS if f in flags]}


def accelerator_present() -> bool:
    """Whether the active Keras backend computes on a GPU/TPU (JAX or TensorFlow)."""
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    try:
        if backend == "jax":
            import jax

            return jax.default_backend() != "cpu"
        if backend == "tensorflow":
            import tensorflow as tf

            return bool(tf.config.list_physical_devices("GPU"))
        if backend == "torch":
            import torch

            return bool(torch.cuda.is_available())
    except ImportError:
        return False
    return False


def native_bf16(flags: Iterable[str], accelerator: bool) -> bool:
    """True where bfloat16 arithmetic runs on native units: an accelerator, or a CPU flag."""
    return accelerator or any(f in set(flags) for f in BF16_CPU_FLAGS)


def resolve_precision(requested: str, flags: Iterable[str] | None = None,
                      accelerator: bool | None = None) -> str:
    """The Keras dtype policy to train with for ``requested`` (``auto`` | ``float32`` |
    ``mixed_bfloat16``) on this machine (or on the given ``flags`` / ``accelerator``)."""
    if requested not in PRECISIONS:
        raise SegstudyError(f"precision: expected one of {', '.join(PRECISIONS)}, "
                            f"got {requested!r}")
    if requested == "float32":
        return requested
    flags = cpu_info()[1] if flags is None else flags
    accelerator = accelerator_present() if accelerator is None else accelerator
    native = native_bf16(flags, accelerator)
    if requested == "auto":
        return "mixed_bfloat16" if native else "float32"
    if not native and requested not in _WARNED:
        _WARNED.add(requested)
        log.warning("precision mixed_bfloat16 on a CPU without bf16 units (%s): training "
                    "will be several times slower than float32; use precision: auto",
                    cpu_info()[0])
    return requested
