#!/usr/bin/env python3
"""Reference values for posbon's exact count tests (crates/analytics/src/special.rs), from scipy.

Reads one JSON object on stdin:
  {"poisson": [[k, mu], ...], "binom": [[k, n, p], ...], "cp": [[k, n, confidence], ...]}
and prints one JSON object:
  {"poisson_cdf": [P(X <= k)], "poisson_sf_ge": [P(X >= k)],
   "binom_p": [scipy.stats.binomtest(k, n, p).pvalue],
   "cp": [[lo, hi]]   (binomtest(k, n).proportion_ci(confidence, method="exact"))}

Used by crates/analytics/tests/scipy_counts.rs. scipy comes with esda:
  pip install -r bench/requirements.txt
"""

import json
import sys


def main() -> int:
    try:
        import scipy
        from scipy import stats
    except ImportError as e:
        print(f"scipy_counts.py: {e}; run `pip install -r bench/requirements.txt`", file=sys.stderr)
        return 3
    req = json.load(sys.stdin)
    out = {
        "scipy": scipy.__version__,
        "poisson_cdf": [float(stats.poisson.cdf(k, mu)) for k, mu in req["poisson"]],
        "poisson_sf_ge": [float(stats.poisson.sf(k - 1, mu)) for k, mu in req["poisson"]],
        "binom_p": [float(stats.binomtest(k, n, p).pvalue) for k, n, p in req["binom"]],
        "cp": [],
    }
    for k, n, conf in req["cp"]:
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=conf, method="exact")
        out["cp"].append([float(ci.low), float(ci.high)])
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
