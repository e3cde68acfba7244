"""segstudy: a reproducible study of U-Net segmentation (ISBI 2012 EM membranes, LGG brain MRI)."""

__version__ = "0.1.0"

DATASETS = ("isbi2012", "lgg")


class SegstudyError(Exception):
    """A problem the user can fix (bad input, bad parameter). Stages print it as one line."""
