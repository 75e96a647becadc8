#!/usr/bin/env python3
"""Time PySAL esda's Gi* on the same polygons posbon's benchmark uses (the peer in BENCHMARKS.md).

  cargo bench -p analytics --bench gistar -- --write-geojson /tmp/posbon_grid.geojson
  python3 tools/esda_bench.py --geojson /tmp/posbon_grid.geojson [--field count]
      [--permutations 999] [--runs 3] [--n-jobs 1]

Times libpysal's queen weights from the geometry, and `esda.G_Local(y, w, transform='B',
star=True, permutations=P)` (the weights built once, outside the timing), each over several runs
after one untimed warm-up call (so numba's compilation, if numba is installed, is not counted;
its time is printed separately). If the file has posbon's z-scores (`posbon_z`), reports the
largest difference from esda's.

Needs: pip install -r bench/requirements.txt (libpysal==4.14.1, esda==2.9.0; numba optional)
"""

import argparse
import json
import resource
import statistics
import sys
import time
import warnings


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--geojson", required=True)
    ap.add_argument("--field", default="count")
    ap.add_argument("--permutations", type=int, default=999)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--n-jobs", type=int, default=1, help="esda's n_jobs (-1: all cores)")
    ap.add_argument("--json", action="store_true", help="print the timings as JSON")
    args = ap.parse_args()
    try:
        import numpy as np
        import geopandas
        import libpysal
        import esda
        from esda.getisord import G_Local
    except ImportError as e:
        print(f"esda_bench.py: {e}; run `pip install -r bench/requirements.txt`", file=sys.stderr)
        return 3
    try:
        import numba

        numba_version = numba.__version__
    except ImportError:
        numba_version = None
    warnings.simplefilter("ignore")

    df = geopandas.read_file(args.geojson)
    y = np.asarray(df[args.field], dtype=float)

    t_w = []
    for _ in range(args.runs):
        t = time.perf_counter()
        w = libpysal.weights.Queen.from_dataframe(df, use_index=False)
        t_w.append(time.perf_counter() - t)

    def run():
        return G_Local(
            y, w, transform="B", star=True, permutations=args.permutations,
            seed=12345, n_jobs=args.n_jobs, keep_simulations=False,
        )

    t = time.perf_counter()
    g = run()
    warm = time.perf_counter() - t
    t_g = []
    for _ in range(args.runs):
        t = time.perf_counter()
        g = run()
        t_g.append(time.perf_counter() - t)

    res = {
        "n": int(len(y)),
        "links": int(w.s0),
        "permutations": args.permutations,
        "n_jobs": args.n_jobs,
        "esda": esda.__version__,
        "libpysal": libpysal.__version__,
        "numba": numba_version,
        "weights_median_s": statistics.median(t_w),
        "gistar_median_s": statistics.median(t_g),
        "gistar_runs_s": t_g,
        "first_call_s": warm,
        # Peak resident size of this process (Linux reports ru_maxrss in KiB).
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }
    if "posbon_z" in df.columns:
        res["max_abs_z_diff_vs_posbon"] = float(np.max(np.abs(np.asarray(df["posbon_z"], float) - g.Zs)))
    if args.json:
        print(json.dumps(res))
    else:
        print(
            f"esda {res['esda']} (libpysal {res['libpysal']}, numba {numba_version}): "
            f"{res['n']} polygons, {res['links']} queen links, {args.permutations} permutations, n_jobs={args.n_jobs}"
        )
        print(f"  queen weights from geometry: median {res['weights_median_s']:.3f} s over {args.runs} runs")
        print(
            f"  G_Local star=True: median {res['gistar_median_s']:.3f} s over {args.runs} runs "
            f"({', '.join(f'{v:.3f}' for v in t_g)}); first call {warm:.3f} s"
        )
        if "max_abs_z_diff_vs_posbon" in res:
            print(f"  max |z_esda - z_posbon| = {res['max_abs_z_diff_vs_posbon']:.3e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
