"""Keep TensorFlow's C++ start-up lines off a user's terminal.

TensorFlow 2.21 writes two lines per import through absl before logging is initialised
("All log messages before absl::InitializeLog() ..." and oneDNN's notice), straight to file
descriptor 2: ``TF_CPP_MIN_LOG_LEVEL`` no longer reaches them, so a one-line error would come
after four lines of noise. This finder wraps the first ``import tensorflow`` (whoever triggers
it: Keras, a stage, the CLI) with fd 2 pointed at a temporary file, and replays that text only
if the import fails. Installed by ``segstudy/__init__``; ``SEGSTUDY_TF_LOGS=1`` turns it off.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any


@contextlib.contextmanager
def _fd2_captured() -> Iterator[None]:
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            sink.seek(0)
            os.write(2, sink.read())
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, inner: importlib.abc.Loader):
        self.inner = inner

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        with _fd2_captured():
            self.inner.exec_module(module)


class QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Sequence[str] | None,
                  target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)  # one import only; also keeps find_spec below from recursing
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def install() -> None:
    if os.environ.get("SEGSTUDY_TF_LOGS") == "1" or "tensorflow" in sys.modules:
        return
    if not any(isinstance(f, QuietTensorFlowFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, QuietTensorFlowFinder())
