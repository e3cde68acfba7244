"""segstudy: a reproducible study of U-Net segmentation (ISBI 2012 EM membranes, LGG brain MRI)."""

import os

# TensorFlow reads this once, when it is first imported, and every stage and the CLI import this
# package before TensorFlow: its start-up lines (oneDNN, CPU features) would otherwise precede a
# user's one-line error. An explicit TF_CPP_MIN_LOG_LEVEL in the environment still wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# ...and what it prints before its logging starts ignores that variable: see _quiet_tf.
from segstudy import _quiet_tf

_quiet_tf.install()

__version__ = "0.1.0"

DATASETS = ("isbi2012", "lgg")


class SegstudyError(Exception):
    """A problem the user can fix (bad input, bad parameter). Stages print it as one line."""
