"""``python -m segstudy predict``: run a trained model on new scans."""

from __future__ import annotations

import argparse
import sys

from segstudy import SegstudyError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m segstudy", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "predict",
        help="segment images with a trained model",
        description="Segment images, multi-page TIFF stacks or kaggle_3m case folders with a "
        "trained model. Normalisation and mask scale come from the model's sidecar JSON.",
    )
    p.add_argument("--model", required=True,
                   help="a trained model, e.g. models/lgg/unet.keras (with its .json beside it)")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="TIFF/PNG images, multi-page TIFF stacks, or folders of them")
    p.add_argument("--out", required=True,
                   help="output folder: masks, overlays and predictions.csv (created atomically)")
    p.add_argument("--min-area", type=int, default=None,
                   help="pixels (at training resolution) for a 'Tumour' decision; default: the "
                   "value chosen on validation, read from metrics/<dataset>/<model>.json")
    p.add_argument("--batch-size", type=int, default=8, help="slices per forward pass")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)
    try:
        from segstudy.predict import predict_paths

        csv = predict_paths(args.model, args.inputs, args.out, args.min_area, args.batch_size,
                            progress=not args.no_progress)
    except SegstudyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
