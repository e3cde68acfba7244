"""``python -m segstudy predict``: run a trained model on new scans;
``python -m segstudy submit``: the ISBI 2012 challenge's submission TIFF of a test volume."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from segstudy import SegstudyError
from segstudy.stage import interrupt_on_sigterm


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is the one line ``error: …`` (``--help`` shows the usage)."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {message} (see --help)", file=sys.stderr)
        sys.exit(2)


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="python -m segstudy", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_OneLineParser)
    p = sub.add_parser(
        "predict",
        help="segment images with a trained model",
        description="Segment images, multi-page TIFF stacks or kaggle_3m case folders with a "
        "trained model. Everything about the model (normalisation, mask scale, input size, "
        "Tumour rule) comes from its sidecar JSON; nothing is read from the working directory.",
    )
    p.add_argument("--model", required=True,
                   help="a trained model, e.g. models/lgg/unet.keras (with its .json beside it)")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="TIFF/PNG images, multi-page TIFF stacks, or folders of them (symlinked "
                   "folders are followed)")
    p.add_argument("--out", required=True,
                   help="output folder: new, empty, or one a previous predict wrote (only its "
                   "own files are replaced); never an input's folder or the working directory")
    p.add_argument("--min-area", type=_int, default=None,
                   help="pixels (at the model's input size) for a 'Tumour' decision; default: "
                   "the rule chosen on validation, from the model's sidecar")
    p.add_argument("--batch-size", type=_int, default=8, help="slices per forward pass")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--slice-overlays", action="store_true",
                   help="also write one overlay PNG per input image (default: one montage per "
                   "case folder or stack)")
    q = sub.add_parser(
        "submit", help="ISBI 2012: the challenge's submission TIFF of the test volume",
        description="Write a multi-page 32-bit float TIFF of membrane probability (one page per "
        "slice), the ISBI 2012 challenge's submission format, with the model's test-time "
        "averaging. Example: python -m segstudy submit --model models/isbi2012/strong.keras "
        "data/raw/isbi2012/test-volume.tif --out submission/strong-test-volume.tif")
    q.add_argument("--model", required=True, help="an ISBI 2012 model (its .json beside it)")
    q.add_argument("volume", help="a multi-page grayscale TIFF, e.g. test-volume.tif")
    q.add_argument("--out", required=True, help="a new .tif file (never replaced)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    interrupt_on_sigterm()
    try:
        if args.command == "submit":
            from segstudy.submit import membrane_probability

            print(f"wrote {membrane_probability(args.model, args.volume, args.out)}")
            return 0
        from segstudy.predict import predict_paths

        csv = predict_paths(args.model, args.inputs, args.out, args.min_area, args.batch_size,
                            progress=not args.no_progress, slice_overlays=args.slice_overlays)
    except SegstudyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; no output was written (a previous one is unchanged)",
              file=sys.stderr)
        return 130
    print(f"wrote {csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
