//! posbon's Gi* beside PySAL esda itself, on libpysal's `columbus` example (CRIME, queen
//! contiguity from the polygons, binary weights, Gi* with the place itself).
//!
//! Runs `tools/esda_gistar.py` with `python3`; the reference must be installed
//! (`pip install -r bench/requirements.txt`: libpysal==4.14.1, esda==2.9.0). If it is not, this
//! test fails and says so: it never skips.
use analytics::{
    Contiguity, GiStarConfig, HotSpotClass, benjamini_hochberg, contiguity, default_tolerance,
    gi_star, numeric_field, parse_feature_collection,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const INSTALL: &str = "run `pip install -r bench/requirements.txt` (libpysal==4.14.1, esda==2.9.0)";

fn python(args: &[&str]) -> String {
    let out = Command::new("python3")
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run python3 ({e}); the esda comparison needs Python 3 with esda: {INSTALL}"
            )
        });
    if !out.status.success() {
        panic!(
            "python3 {} failed ({}): {}\nThe esda comparison needs the reference implementation: {INSTALL}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8(out.stdout).expect("python output is UTF-8")
}

fn columbus_path() -> PathBuf {
    let dir = python(&[
        "-c",
        "import libpysal, os; print(os.path.dirname(libpysal.__file__))",
    ]);
    let p = Path::new(dir.trim()).join("examples/columbus/columbus.json");
    assert!(
        p.exists(),
        "{} is missing: libpysal's wheel ships the columbus example; {INSTALL}",
        p.display()
    );
    p
}

fn esda(geojson: &Path, weights: &str, permutations: usize) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/esda_gistar.py");
    let out = python(&[
        script.to_str().unwrap(),
        "--geojson",
        geojson.to_str().unwrap(),
        "--field",
        "CRIME",
        "--weights",
        weights,
        "--permutations",
        &permutations.to_string(),
        "--seed",
        "12345",
    ]);
    serde_json::from_str(&out).expect("esda_gistar.py prints JSON")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn lists(v: &Value) -> Vec<Vec<usize>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|l| {
            l.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as usize)
                .collect()
        })
        .collect()
}

fn set(mask: impl Iterator<Item = bool>) -> Vec<usize> {
    mask.enumerate()
        .filter(|(_, b)| *b)
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn gi_star_agrees_with_esda_on_columbus() {
    let path = columbus_path();
    let text = std::fs::read_to_string(&path).unwrap();
    let features = parse_feature_collection(&text).unwrap();
    let y = numeric_field(&features, "CRIME").unwrap();
    let geoms: Vec<_> = features.iter().map(|f| f.geometry.clone()).collect();
    let tol = default_tolerance(&geoms);
    let w = contiguity(&geoms, Contiguity::Queen, tol).unwrap();

    let reference = esda(&path, "queen", 999);
    let n = reference["n"].as_u64().unwrap() as usize;
    assert_eq!(n, 49);
    assert_eq!(y.len(), n);

    // The weights built from the geometry are libpysal's.
    assert_eq!(
        w.to_lists(),
        lists(&reference["neighbors"]),
        "queen neighbours differ"
    );

    // Analytical z and p_norm.
    let ez = floats(&reference["z"]);
    let ep = floats(&reference["p_norm"]);
    let cfg = GiStarConfig {
        permutations: 999,
        seed: 12345,
        fdr: false,
    };
    let g = gi_star(&y, &w, &cfg).unwrap();
    let max_dz =
        g.z.iter()
            .zip(&ez)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
    let max_dp = g
        .p_norm
        .iter()
        .zip(&ep)
        .map(|(a, b)| (a - b).abs() / b)
        .fold(0.0, f64::max);
    eprintln!("max |z - z_esda| = {max_dz:e}; max relative p_norm difference = {max_dp:e}");
    assert!(max_dz < 1e-6, "max |z diff| {max_dz}");
    assert!(max_dp < 1e-9, "max relative p_norm diff {max_dp}");

    // Hot and cold sets at 95%, analytical (two-sided, no FDR): identical.
    let analytic = gi_star(
        &y,
        &w,
        &GiStarConfig {
            permutations: 0,
            fdr: false,
            ..cfg.clone()
        },
    )
    .unwrap();
    let at95 = |c: HotSpotClass| matches!(c, HotSpotClass::Hot99 | HotSpotClass::Hot95);
    let cold95 = |c: HotSpotClass| matches!(c, HotSpotClass::Cold99 | HotSpotClass::Cold95);
    let ours_hot = set(analytic.class.iter().map(|&c| at95(c)));
    let ours_cold = set(analytic.class.iter().map(|&c| cold95(c)));
    let esda_hot = set(ez.iter().zip(&ep).map(|(&z, &p)| z > 0.0 && 2.0 * p < 0.05));
    let esda_cold = set(ez.iter().zip(&ep).map(|(&z, &p)| z < 0.0 && 2.0 * p < 0.05));
    eprintln!("95% analytical: hot {ours_hot:?}, cold {ours_cold:?}");
    assert_eq!(ours_hot, esda_hot);
    assert_eq!(ours_cold, esda_cold);
    assert!(!ours_hot.is_empty() && !ours_cold.is_empty());

    // Permutation inference: different random streams, so the pseudo p-values agree within
    // sampling error, and PySAL's usual sets (z sign and p_sim < 0.05) agree except where a
    // p-value is within sampling error of 0.05.
    let ps = g.p_sim.as_ref().unwrap();
    let eps = floats(&reference["p_sim"]);
    let mut worst = 0.0f64;
    for (i, (&a, &b)) in ps.iter().zip(&eps).enumerate() {
        let p = a.max(b).max(0.002);
        let sd = (2.0 * p * (1.0 - p) / 999.0).sqrt();
        let d = (a - b).abs();
        worst = worst.max(d / sd);
        assert!(d <= 4.5 * sd + 0.003, "place {i}: p_sim {a} vs esda {b}");
    }
    let sim_hot = |p: &[f64], z: &[f64]| set(p.iter().zip(z).map(|(&p, &z)| z > 0.0 && p < 0.05));
    let sim_cold = |p: &[f64], z: &[f64]| set(p.iter().zip(z).map(|(&p, &z)| z < 0.0 && p < 0.05));
    let borderline = |i: &usize| (ps[*i] - 0.05).abs() < 0.021 || (eps[*i] - 0.05).abs() < 0.021;
    let sym_diff = |a: &[usize], b: &[usize]| -> Vec<usize> {
        a.iter()
            .filter(|i| !b.contains(i))
            .chain(b.iter().filter(|i| !a.contains(i)))
            .copied()
            .collect()
    };
    let (oh, eh) = (sim_hot(ps, &g.z), sim_hot(&eps, &ez));
    let (oc, ec) = (sim_cold(ps, &g.z), sim_cold(&eps, &ez));
    eprintln!(
        "95% permutation (p_sim < 0.05): posbon hot {oh:?} cold {oc:?}; esda hot {eh:?} cold {ec:?}"
    );
    eprintln!("largest p_sim difference: {worst:.2} standard errors");
    for i in sym_diff(&oh, &eh).iter().chain(&sym_diff(&oc, &ec)) {
        assert!(
            borderline(i),
            "place {i}: p_sim {} vs esda {} disagree about 95%",
            ps[*i],
            eps[*i]
        );
    }

    // The FDR correction rejects what esda.fdr's threshold rejects (on esda's own p_sim).
    let q = benjamini_hochberg(&eps);
    for (alpha, key) in [(0.01, "0.01"), (0.05, "0.05"), (0.1, "0.1")] {
        let thr = reference["fdr"][key].as_f64().unwrap();
        let ours = set(q.iter().map(|&q| q < alpha));
        let theirs = set(eps.iter().map(|&p| p < thr));
        assert_eq!(ours, theirs, "FDR at {alpha}");
    }
}

#[test]
fn rook_weights_agree_with_libpysal_on_columbus() {
    let path = columbus_path();
    let text = std::fs::read_to_string(&path).unwrap();
    let features = parse_feature_collection(&text).unwrap();
    let geoms: Vec<_> = features.iter().map(|f| f.geometry.clone()).collect();
    let w = contiguity(&geoms, Contiguity::Rook, default_tolerance(&geoms)).unwrap();
    let reference = esda(&path, "rook", 0);
    assert_eq!(
        w.to_lists(),
        lists(&reference["neighbors"]),
        "rook neighbours differ"
    );
    let y = numeric_field(&features, "CRIME").unwrap();
    let g = analytics::gi_star_analytical(&y, &w).unwrap();
    let ez = floats(&reference["z"]);
    let max_dz =
        g.z.iter()
            .zip(&ez)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
    assert!(max_dz < 1e-6, "rook: max |z diff| {max_dz}");
}
