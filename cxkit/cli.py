"""The ``cxkit`` command: ``cxkit report``, ``cxkit workshop``, ``cxkit simulate``, ``cxkit init``.

Examples
--------
$ cxkit report                       # the bundled sample -> reports/
$ cxkit report --data exports/ --out my_reports --show-code
$ cxkit report --only 01             # just the funnel notebook
$ cxkit report --lang es             # the whole report in Spanish
$ cxkit report --data big/ --engine duckdb   # events reduced in DuckDB, not loaded
$ cxkit workshop my_workshop        # student/ and teacher/ copies
$ cxkit simulate --out data/other --seed 11 --customers 2000
$ cxkit init exports/                # profile a folder, write a starter exports/cxkit.toml
"""

from __future__ import annotations

import argparse
import sys

from .data import DataError


def _report(args):
    from .report import ReportError, build_report

    try:
        paths = build_report(
            args.data,
            args.out,
            show_code=args.show_code,
            only=args.only,
            notebooks=args.notebooks,
            lang=args.lang,
            jobs=args.jobs,
            engine=args.engine,
        )
    except ReportError as exc:
        print(f"cxkit report: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(paths)} files; open {paths[0]}")
    return 0


def _simulate(args):
    from .simulate import simulate, write_sample

    journey, truth = simulate(customers=args.customers, seed=args.seed)
    write_sample(journey, truth, args.out)
    print(f"wrote {args.out}: {journey}")
    return 0


def _workshop(args):
    from .report.workshop import make_workshop

    made = make_workshop(args.folder, data=args.data, force=args.force)
    total = sum(made["exercises"].values())
    print(
        f"wrote {made['student']} ({total} exercises) and {made['teacher']} (guide.md, truth.json)"
    )
    return 0


def _init(args):
    from .data.init import init_spec

    init_spec(args.folder, force=args.force, verbose=True)
    return 0


def _whole(low, what):
    """An argparse type: a whole number of at least ``low`` (argparse exits 2 otherwise)."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what}: a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{what}: at least {low}, got {value}")
        return value

    return parse


def build_parser():
    from .simulate import MIN_CUSTOMERS

    parser = argparse.ArgumentParser(prog="cxkit", description="Customer-journey analysis kit.")
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="run every notebook on a data folder, write HTML")
    rep.add_argument("--data", default=None, help="data folder (default: the bundled sample)")
    rep.add_argument("--out", default="reports", help="output folder (default: reports/)")
    rep.add_argument("--show-code", action="store_true", help="include the code cells")
    rep.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only this notebook (name or number, repeatable)",
    )
    rep.add_argument(
        "--notebooks", default=None, help="folder of notebooks (default: the kit's notebooks/)"
    )
    rep.add_argument(
        "--lang",
        choices=("en", "es"),
        default=None,
        help="language of the report: en (English) or es (Spanish); default: CXKIT_LANG or en",
    )
    rep.add_argument(
        "--jobs",
        type=_whole(1, "--jobs"),
        default=None,
        metavar="N",
        help="notebooks run at once (default: 2 on a machine with two cores or more)",
    )
    rep.add_argument(
        "--engine",
        choices=("pandas", "duckdb"),
        default="pandas",
        help="where the events are reduced: pandas (in memory, the default) or duckdb (the "
        "files stay on disk: logs larger than memory; needs pip install 'cxkit[duckdb]')",
    )
    rep.set_defaults(func=_report)
    ws = sub.add_parser("workshop", help="write student and teacher copies for a workshop")
    ws.add_argument("folder")
    ws.add_argument("--data", default=None, help="data folder with truth.json (default: sample)")
    ws.add_argument(
        "--force", action="store_true", help="replace files changed since the last run"
    )
    ws.set_defaults(func=_workshop)
    sim = sub.add_parser("simulate", help="write a simulated data folder with its truth")
    sim.add_argument("--out", required=True)
    sim.add_argument(
        "--customers",
        type=_whole(MIN_CUSTOMERS, "--customers"),
        default=3000,
        help=f"expected number of customers (at least {MIN_CUSTOMERS})",
    )
    sim.add_argument("--seed", type=_whole(0, "--seed"), default=7, help="random seed (0 or more)")
    sim.set_defaults(func=_simulate)
    ini = sub.add_parser("init", help="profile a data folder, write a starter cxkit.toml")
    ini.add_argument("folder")
    ini.add_argument("--force", action="store_true", help="replace an existing cxkit.toml")
    ini.set_defaults(func=_init)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except DataError as exc:
        print(f"cxkit {args.command}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a folder that cannot be written, a file where a folder should be
        where = f": {exc.filename}" if exc.filename else ""
        print(f"cxkit {args.command}: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
