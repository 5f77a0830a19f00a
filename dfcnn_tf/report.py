"""`python -m dfcnn_tf.report RESULTS_DIR`: tables and figures of a results folder.

Writes into `RESULTS_DIR/report/` (or `--out`) the results section of the
paper as one page, `summary.md`, with every figure (PNG at 200 dpi, plus SVG
and PDF) beside its table; `dfcnn_tf.report_page` builds it. With
`--against BASE` it writes `comparison.md` instead: RESULTS_DIR's runs
against BASE's, paired by model and seed (`dfcnn_tf.comparison`). Only the argument
parser is imported before parsing, so `--help` answers at once.
"""

import sys
from pathlib import Path

from dfcnn_tf.cli import ArgumentParser, describe_os_error


def build_parser():
    """The argument parser of the report command."""
    parser = ArgumentParser(
        prog="python -m dfcnn_tf.report", description=__doc__.splitlines()[0]
    )
    parser.add_argument("results_dir", help="folder given as --out to the runs")
    parser.add_argument("--out", help="where to write (default: RESULTS_DIR/report)")
    parser.add_argument(
        "--against",
        metavar="BASE",
        help="write comparison.md instead: each configuration's metrics and "
        "their difference from the same model's runs of the same seeds in "
        "the results folder BASE (mean ± 95%% CI over seed pairs)",
    )
    return parser


def main(argv=None):
    """Entry point; returns the exit code (2 if the folder holds no finished run)."""
    args = build_parser().parse_args(argv)
    from dfcnn_tf.comparison import write_comparison  # pandas, matplotlib
    from dfcnn_tf.report_page import write_report

    skipped = {}
    try:
        _check_folder("RESULTS_DIR", args.results_dir)
        if args.against:
            _check_folder("--against", args.against)
            folders = (args.results_dir, args.against)
            paths = [write_comparison(*folders, args.out, skipped)]
        else:
            paths = write_report(args.results_dir, args.out, skipped)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # no finished run; --out not a folder, disk full
        message = describe_os_error(error) if error.errno else error
        print(f"error: {message}", file=sys.stderr)
        return 2
    finally:
        for run_dir, reason in skipped.items():
            print(f"note: skipped {run_dir} (unreadable: {reason})", file=sys.stderr)
    print(paths[0].read_text())
    print("\n".join(f"wrote {path}" for path in paths))
    return 0


def _check_folder(name, path):
    if not Path(path).is_dir():
        what = "not a folder" if Path(path).exists() else "no such folder"
        raise ValueError(f"{name} {path}: {what} (the folder the runs were written to)")


if __name__ == "__main__":
    sys.exit(main())
