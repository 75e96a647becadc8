#!/usr/bin/env python3
"""Score MOT-format track files against a ground-truth file with motmetrics (the reference
implementation of the CLEAR-MOT and ID metrics).

    python3 tools/mot_eval.py --gt GT.txt --tracks A.txt [--tracks B.txt ...] [--json]

Distances are 1 - IoU, with pairs whose IoU is below 0.5 never matched (``distth=0.5``), exactly as
motmetrics' own TUD-Campus / TUD-Stadtmitte test does. Needs ``pip install motmetrics==1.4.0
'numpy<2'`` (motmetrics 1.4.0 calls ``np.asfarray``, removed in NumPy 2; it is shimmed here).

Printed per file: MOTA, IDF1, MOTP (as MOTChallenge reports it: mean IoU of matches, in %),
ID switches, false positives, misses, fragmentations, mostly tracked / lost, precision, recall.
``--json`` prints one JSON object instead: {"gt": ..., "results": [{"file": ..., metrics...}]},
with MOTA, IDF1, MOTP, precision and recall as fractions (0..1) and counts as integers.
"""
import argparse
import json
import os
import sys

METRICS = [
    "mota",
    "idf1",
    "motp",
    "num_switches",
    "num_false_positives",
    "num_misses",
    "num_fragmentations",
    "mostly_tracked",
    "mostly_lost",
    "num_unique_objects",
    "num_objects",
    "num_predictions",
    "precision",
    "recall",
    "idp",
    "idr",
]


def fail(msg):
    print(f"mot_eval: {msg}", file=sys.stderr)
    sys.exit(2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gt", required=True, help="ground truth, MOT format")
    ap.add_argument("--tracks", required=True, action="append", help="tracks to score, MOT format (repeatable)")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ap.add_argument("--iou", type=float, default=0.5, help="minimum IoU for a match (default 0.5)")
    args = ap.parse_args()

    try:
        import numpy as np
    except ImportError:
        fail("numpy is not installed: run `pip install motmetrics==1.4.0 'numpy<2'`")
    if not hasattr(np, "asfarray"):  # removed in NumPy 2; motmetrics 1.4.0 still calls it
        np.asfarray = lambda a, dtype=np.float64: np.asarray(a, dtype=dtype)
    try:
        import motmetrics as mm
    except ImportError:
        fail("motmetrics is not installed: run `pip install motmetrics==1.4.0 'numpy<2'`")

    for p in [args.gt] + args.tracks:
        if not os.path.isfile(p):
            fail(f"{p}: no such file (give MOT-format text: frame,id,left,top,width,height,conf,x,y,z)")

    gt = mm.io.loadtxt(args.gt, fmt="mot15-2D")
    accs, names = [], []
    for t in args.tracks:
        try:
            ts = mm.io.loadtxt(t, fmt="mot15-2D")
        except Exception as e:  # pandas parse errors
            fail(f"{t}: cannot be read as MOT text ({e})")
        accs.append(mm.utils.compare_to_groundtruth(gt, ts, "iou", distth=args.iou))
        names.append(t)

    mh = mm.metrics.create()
    summary = mh.compute_many(accs, metrics=METRICS, names=names)

    rows = []
    for name in names:
        r = summary.loc[name]
        row = {"file": name}
        for m in METRICS:
            v = r[m]
            if m in ("mota", "idf1", "precision", "recall", "idp", "idr"):
                row[m] = float(v)
            elif m == "motp":
                # motmetrics reports the mean distance (1 - IoU); MOTChallenge prints 1 - that
                row["motp"] = float(1.0 - v) if v == v else float("nan")
            else:
                row[m] = int(v)
        rows.append(row)

    if args.json:
        print(json.dumps({"gt": args.gt, "min_iou": args.iou, "results": rows}, indent=1))
        return
    hdr = f"{'file':<40} {'MOTA':>6} {'IDF1':>6} {'MOTP':>6} {'IDSW':>5} {'FP':>5} {'FN':>5} {'Frag':>5} {'MT':>3} {'ML':>3} {'Prcn':>6} {'Rcll':>6}"
    print(f"ground truth: {args.gt}")
    print(hdr)
    for r in rows:
        f = r["file"] if len(r["file"]) <= 40 else "..." + r["file"][-37:]
        print(
            f"{f:<40} {100*r['mota']:6.1f} {100*r['idf1']:6.1f} {100*r['motp']:6.1f} {r['num_switches']:5d} "
            f"{r['num_false_positives']:5d} {r['num_misses']:5d} {r['num_fragmentations']:5d} "
            f"{r['mostly_tracked']:3d} {r['mostly_lost']:3d} {100*r['precision']:6.1f} {100*r['recall']:6.1f}"
        )


if __name__ == "__main__":
    main()
