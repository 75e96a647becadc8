#!/usr/bin/env python3
"""Getis-Ord Gi* computed by PySAL esda, the reference posbon's `analytics` crate is tested against.

Reads a GeoJSON FeatureCollection of polygons and one numeric property, builds binary contiguity
weights with libpysal (queen or rook, from the geometry), runs
`esda.G_Local(y, w, transform='B', star=True)` and prints one JSON object on stdout:

  {"n": N, "z": [...], "p_norm": [...], "p_sim": [...] or null, "neighbors": [[...], ...],
   "fdr": {"0.01": t, "0.05": t, "0.1": t}}   (esda.fdr thresholds on p_sim, if any)

all lists in feature order. Used by crates/analytics/tests/esda_columbus.rs.

  python3 tools/esda_gistar.py --geojson columbus.json --field CRIME [--weights queen|rook]
      [--permutations 999] [--seed 12345]

Needs the pins in bench/requirements.txt (libpysal==4.14.1, esda==2.9.0):
  pip install -r bench/requirements.txt
"""

import argparse
import json
import sys
import warnings


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--geojson", required=True)
    ap.add_argument("--field", required=True)
    ap.add_argument("--weights", choices=["queen", "rook"], default="queen")
    ap.add_argument("--permutations", type=int, default=999)
    ap.add_argument("--seed", type=int, default=12345)
    args = ap.parse_args()

    try:
        import numpy as np
        import geopandas
        import libpysal
        import esda
        from esda.getisord import G_Local
    except ImportError as e:
        print(
            f"esda_gistar.py: cannot import the reference implementation ({e}); "
            "run `pip install -r bench/requirements.txt`",
            file=sys.stderr,
        )
        return 3

    warnings.simplefilter("ignore")  # esda's deprecation notices about future defaults
    df = geopandas.read_file(args.geojson)
    if args.field not in df.columns:
        print(f"esda_gistar.py: no field {args.field!r} in {args.geojson}", file=sys.stderr)
        return 2
    y = np.asarray(df[args.field], dtype=float)
    cls = libpysal.weights.Queen if args.weights == "queen" else libpysal.weights.Rook
    w = cls.from_dataframe(df, use_index=False)
    neighbors = [sorted(int(j) for j in w.neighbors[i]) for i in range(len(df))]

    g = G_Local(
        y,
        w,
        transform="B",
        star=True,
        permutations=args.permutations,
        seed=args.seed,
        n_jobs=1,
    )
    out = {
        "versions": {"esda": esda.__version__, "libpysal": libpysal.__version__},
        "n": int(len(y)),
        "z": [float(v) for v in g.Zs],
        "p_norm": [float(v) for v in g.p_norm],
        "p_sim": None,
        "neighbors": neighbors,
        "fdr": None,
    }
    if args.permutations > 0:
        out["p_sim"] = [float(v) for v in g.p_sim]
        out["fdr"] = {str(a): float(esda.fdr(g.p_sim, a)) for a in (0.01, 0.05, 0.1)}
    json.dump(out, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
