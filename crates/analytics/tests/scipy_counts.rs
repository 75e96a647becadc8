//! posbon's exact count tests beside scipy's: Poisson tails (crime-free and red mahallas), the
//! two-sided binomial test and Clopper-Pearson intervals (trends).
//!
//! Runs `tools/scipy_counts.py` with `python3`; scipy must be installed (it comes with esda:
//! `pip install -r bench/requirements.txt`). If it is not, this test fails and says so: it never
//! skips.
use analytics::special::{binom_test_two_sided, clopper_pearson, poisson_cdf, poisson_sf_ge};
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn scipy(request: &Value) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/scipy_counts.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run python3 ({e}); run `pip install -r bench/requirements.txt`")
        });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "tools/scipy_counts.py failed ({}): {}\nThe comparison needs scipy: run `pip install -r bench/requirements.txt`",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("scipy_counts.py prints JSON")
}

fn rel(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / b.abs().max(1e-300)
    }
}

#[test]
fn exact_count_tests_match_scipy() {
    let mut poisson = Vec::new();
    for &mu in &[0.05, 0.3, 0.9, 1.0, 2.5, 7.0, 30.0, 90.0, 400.0, 5000.0] {
        for &k in &[0u64, 1, 2, 3, 5, 10, 20, 50, 100, 450, 5200] {
            poisson.push((k, mu));
        }
    }
    let mut binom = Vec::new();
    for &(n, p) in &[
        (1u64, 0.5),
        (5, 0.5),
        (12, 0.5),
        (20, 0.3),
        (50, 31.0 / 60.0),
        (61, 28.0 / 59.0),
        (200, 0.5),
        (1000, 0.1),
        (5000, 0.52),
        (40000, 0.5),
    ] {
        for f in [0.0, 0.05, 0.2, 0.35, 0.5, 0.55, 0.7, 0.9, 1.0] {
            let k = ((n as f64) * f).round() as u64;
            binom.push((k, n, p));
        }
    }
    let mut cp = Vec::new();
    for &n in &[1u64, 2, 7, 12, 50, 333, 10_000] {
        for f in [0.0, 0.1, 0.5, 0.83, 1.0] {
            let k = ((n as f64) * f).round() as u64;
            for conf in [0.9, 0.95, 0.99] {
                cp.push((k, n, conf));
            }
        }
    }
    let req = json!({"poisson": poisson, "binom": binom, "cp": cp});
    let r = scipy(&req);
    let floats = |v: &Value| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    let mut worst = 0.0f64;
    for (i, &(k, mu)) in poisson.iter().enumerate() {
        let (want_cdf, want_sf) = (floats(&r["poisson_cdf"])[i], floats(&r["poisson_sf_ge"])[i]);
        let (cdf, sf) = (poisson_cdf(k, mu), poisson_sf_ge(k, mu));
        // Relative agreement where the value is representable with meaning (>= 1e-290).
        for (got, want, what) in [(cdf, want_cdf, "cdf"), (sf, want_sf, "sf")] {
            if want > 1e-290 {
                let e = rel(got, want);
                worst = worst.max(e);
                assert!(e < 1e-9, "poisson {what}({k}, {mu}): {got} vs scipy {want}");
            } else {
                assert!(
                    got < 1e-280,
                    "poisson {what}({k}, {mu}): {got} vs scipy {want}"
                );
            }
        }
    }
    for (i, &(k, n, p)) in binom.iter().enumerate() {
        let want = floats(&r["binom_p"])[i];
        let got = binom_test_two_sided(k, n, p);
        let e = rel(got, want);
        worst = worst.max(e);
        assert!(
            e < 1e-8 || (got - want).abs() < 1e-300,
            "binomtest({k}, {n}, {p}): {got} vs scipy {want}"
        );
    }
    for (i, &(k, n, conf)) in cp.iter().enumerate() {
        let want = r["cp"][i].as_array().unwrap();
        let (lo, hi) = clopper_pearson(k, n, conf);
        let (wl, wh) = (want[0].as_f64().unwrap(), want[1].as_f64().unwrap());
        assert!(
            (lo - wl).abs() < 1e-11 && (hi - wh).abs() < 1e-11,
            "clopper_pearson({k}, {n}, {conf}): ({lo}, {hi}) vs scipy ({wl}, {wh})"
        );
    }
    eprintln!(
        "scipy {}: {} Poisson, {} binomial, {} interval cases; largest relative difference {worst:.2e}",
        r["scipy"],
        poisson.len(),
        binom.len(),
        cp.len()
    );
}
