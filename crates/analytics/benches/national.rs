//! The national benchmark of issue 4: a simulated country (10,000 mahalla polygons with
//! realistic contiguity, 5 years and about 700,000 incidents with spatial clustering), timed
//! operation by operation, with the heap each one needs, and PySAL esda's Gi* on the same
//! polygons and counts in the same run.
//!
//!   cargo bench -p analytics --bench national -- [--runs 5] [--esda-runs 3] [--no-esda]
//!       [--cols 100 --rows 100 --incidents 700000] [--out-dir /tmp/posbon-national]
//!
//! Each time is the median of `--runs` runs. "Heap" is the most memory the operation held at
//! once beyond what was allocated before it (a counting allocator wraps the system one), its
//! output included; the process's peak resident size (VmHWM) is printed at the end. esda runs
//! through `tools/esda_bench.py` (libpysal 4.14.1 queen weights, esda 2.9.0
//! `G_Local(transform='B', star=True, permutations=999)`, numba installed: see
//! bench/requirements.txt), which reports its own medians and peak resident size.
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use analytics::crimefree::{CrimeFreeQuery, crime_free};
use analytics::data::{Period, SourceSet, UZ_OFFSET_S, month};
use analytics::forecast::{hot_spot_flags, score_flags, score_ranking};
use analytics::patrol::{PatrolConfig, Shift, hot_spot_places, plan_patrols};
use analytics::simulate::{NationalConfig, simulate_national};
use analytics::trends::{TrendQuery, trends};
use analytics::{
    Contiguity, GiStarConfig, GridSpec, contiguity, count_points, default_tolerance, gi_star,
    kernel_density,
};
use domain::Source;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now = CURRENT.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                    - layout.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

struct Args {
    cols: usize,
    rows: usize,
    incidents: usize,
    runs: usize,
    esda_runs: usize,
    esda: bool,
    permutations: usize,
    out_dir: PathBuf,
}

fn args() -> Args {
    let mut a = Args {
        cols: 100,
        rows: 100,
        incidents: 700_000,
        runs: 5,
        esda_runs: 3,
        esda: true,
        permutations: 999,
        out_dir: std::env::temp_dir().join("posbon-national"),
    };
    let v: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < v.len() {
        let next = |i: usize| v.get(i + 1).cloned().expect("flag needs a value");
        match v[i].as_str() {
            "--cols" => a.cols = next(i).parse().expect("--cols N"),
            "--rows" => a.rows = next(i).parse().expect("--rows N"),
            "--incidents" => a.incidents = next(i).parse().expect("--incidents N"),
            "--runs" => a.runs = next(i).parse().expect("--runs N"),
            "--esda-runs" => a.esda_runs = next(i).parse().expect("--esda-runs N"),
            "--permutations" => a.permutations = next(i).parse().expect("--permutations N"),
            "--out-dir" => a.out_dir = PathBuf::from(next(i)),
            "--no-esda" => {
                a.esda = false;
                i += 1;
                continue;
            }
            _ => {
                i += 1; // `--bench` and other harness flags
                continue;
            }
        }
        i += 2;
    }
    a
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// A measured step: median seconds, and the peak heap of its first run beyond the heap before.
struct Step {
    name: String,
    detail: String,
    median_s: f64,
    runs: usize,
    heap_mib: f64,
}

fn measure<T>(runs: usize, mut f: impl FnMut() -> T) -> (T, f64, f64) {
    let mut times = Vec::with_capacity(runs);
    let mut heap = 0.0;
    let mut out = None;
    for r in 0..runs.max(1) {
        let base = CURRENT.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let t = Instant::now();
        let v = f();
        times.push(t.elapsed().as_secs_f64());
        if r == 0 {
            heap = (PEAK.load(Ordering::Relaxed) - base) as f64 / (1024.0 * 1024.0);
        }
        out = Some(v);
    }
    (out.unwrap(), median(times), heap)
}

fn vm_hwm_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn year(first: i64, k: i64) -> Period {
    Period::new(
        analytics::data::local_midnight(first + k, 1, 1, UZ_OFFSET_S),
        analytics::data::local_midnight(first + k + 1, 1, 1, UZ_OFFSET_S),
    )
    .unwrap()
}

fn counts_per_mahalla(
    n: usize,
    incidents: &[analytics::data::IncidentRecord],
    p: &Period,
    src: Source,
) -> Vec<f64> {
    let mut y = vec![0.0; n];
    for i in incidents {
        if i.source == src && p.contains(i.at) {
            y[(i.mahalla.0 - 1) as usize] += 1.0;
        }
    }
    y
}

fn in_bbox(p: [f64; 2], b: [f64; 4]) -> bool {
    p[0] >= b[0] && p[0] <= b[2] && p[1] >= b[1] && p[1] <= b[3]
}

fn geojson(n: &analytics::simulate::National, y: &[f64], z: &[f64]) -> String {
    let feats: Vec<serde_json::Value> = n
        .polygons
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut ring = p.0[0].exterior.clone();
            ring.push(ring[0]);
            serde_json::json!({
                "type": "Feature",
                "id": i,
                "properties": {"mahalla": n.mahallas[i].id.0, "count": y[i], "posbon_z": z[i]},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            })
        })
        .collect();
    serde_json::json!({"type": "FeatureCollection", "features": feats}).to_string()
}

fn main() {
    let a = args();
    std::fs::create_dir_all(&a.out_dir).expect("create --out-dir");
    let cfg = NationalConfig {
        cols: a.cols,
        rows: a.rows,
        incidents: a.incidents,
        ..Default::default()
    };
    let mut steps: Vec<Step> = Vec::new();

    let (nat, t_sim, h_sim) = measure(1, || simulate_national(&cfg));
    let n = nat.mahallas.len();
    let last = cfg.years as i64 - 1;
    let (y4p, y5p) = (year(cfg.first_year, last - 1), year(cfg.first_year, last));
    let last_year = cfg.first_year + last;
    println!(
        "simulated: {n} mahallas, {} incidents {} .. {} in {t_sim:.2} s ({h_sim:.0} MiB)",
        nat.incidents.len(),
        nat.start,
        nat.end
    );

    // 1. Crime-free and red mahallas for the last month, all sources, the whole country.
    let dec = month(last_year, 12, UZ_OFFSET_S);
    let q = CrimeFreeQuery::new(dec);
    let (cf, t, h) = measure(a.runs, || {
        crime_free(&nat.mahallas, &nat.incidents, &q).unwrap()
    });
    steps.push(Step {
        name: "crime-free + red query (one month, whole country)".into(),
        detail: format!(
            "{} incidents scanned; {} crime-free (expected by chance {:.0} +/- {:.0}), {} surprising zeros, {} red of {} qualifying",
            nat.incidents.len(),
            cf.crime_free.count,
            cf.crime_free.expected,
            cf.crime_free.expected_sd,
            cf.crime_free.surprising,
            cf.red.mahallas.len(),
            cf.red.qualifying
        ),
        median_s: t,
        runs: a.runs,
        heap_mib: h,
    });
    let mut qy = CrimeFreeQuery::new(y5p);
    qy.sources = SourceSet::of(&[Source::Public]);
    let (cfy, t, h) = measure(a.runs, || {
        crime_free(&nat.mahallas, &nat.incidents, &qy).unwrap()
    });
    steps.push(Step {
        name: "crime-free + red query (one year, public reports)".into(),
        detail: format!(
            "{} crime-free (expected {:.1}), {} red of {} qualifying",
            cfy.crime_free.count,
            cfy.crime_free.expected,
            cfy.red.mahallas.len(),
            cfy.red.qualifying
        ),
        median_s: t,
        runs: a.runs,
        heap_mib: h,
    });

    // 2. Trends: December against November and December a year before.
    // A calendar month: compared with November by default.
    let tq = TrendQuery::new(dec);
    let (tr, t, h) = measure(a.runs, || {
        trends(&nat.mahallas, &nat.incidents, &tq).unwrap()
    });
    let pub_all = &tr.by_source[&Source::Public].all_categories;
    steps.push(Step {
        name: "trends (month vs previous and year before, 4 sources x categories)".into(),
        detail: format!(
            "{} tests; public: {} vs {} ({:?}) and {} a year before ({:?})",
            tr.tests,
            pub_all.current.count,
            pub_all.previous.count,
            pub_all.previous.direction,
            pub_all.year_before.count,
            pub_all.year_before.direction
        ),
        median_s: t,
        runs: a.runs,
        heap_mib: h,
    });

    // 3. Queen contiguity from the polygons.
    let tol = default_tolerance(&nat.polygons);
    let (w, t, h) = measure(a.runs, || {
        contiguity(&nat.polygons, Contiguity::Queen, tol).unwrap()
    });
    steps.push(Step {
        name: format!("queen contiguity from {n} polygons"),
        detail: format!(
            "{} links, mean {:.2} neighbours, max {}",
            w.nnz(),
            w.nnz() as f64 / n as f64,
            w.max_cardinality()
        ),
        median_s: t,
        runs: a.runs,
        heap_mib: h,
    });

    // 4. Gi* with 999 permutations on the last year's public reports per mahalla.
    let y5 = counts_per_mahalla(n, &nat.incidents, &y5p, Source::Public);
    let gcfg = GiStarConfig {
        permutations: a.permutations,
        seed: 12345,
        fdr: true,
    };
    let (g5, t_gi, h) = measure(a.runs, || gi_star(&y5, &w, &gcfg).unwrap());
    let hot = g5.class.iter().filter(|c| c.is_hot()).count();
    let cold = g5.class.iter().filter(|c| c.is_cold()).count();
    steps.push(Step {
        name: format!(
            "Gi* + {} permutations + FDR on {n} polygons",
            a.permutations
        ),
        detail: format!("{hot} hot, {cold} cold after FDR (1 thread)"),
        median_s: t_gi,
        runs: a.runs,
        heap_mib: h,
    });

    // 5. Kernel density over the largest city: last year's incidents, 100 m cells, 400 m
    //    bandwidth.
    let city_pts: Vec<[f64; 2]> = nat
        .incidents
        .iter()
        .filter(|i| y5p.contains(i.at))
        .filter_map(|i| i.point)
        .filter(|p| in_bbox(*p, nat.city_bbox))
        .collect();
    let spec = GridSpec::covering(&city_pts, 100.0, 400.0).unwrap();
    let (dens, t, h) = measure(a.runs, || {
        kernel_density(&city_pts, None, 400.0, &spec).unwrap()
    });
    steps.push(Step {
        name: "KDE, one city (20 km x 20 km, 100 m cells, 400 m bandwidth)".into(),
        detail: format!(
            "{} incidents, {} x {} = {} cells",
            city_pts.len(),
            spec.nx,
            spec.ny,
            spec.len()
        ),
        median_s: t,
        runs: a.runs,
        heap_mib: h,
    });
    drop(dens);

    // 6. PAI/PEI* against the baseline on the held-out last year.
    //    a) mahallas: Gi* hot spots (90%) of the year before, against last period's counts;
    //    b) the city grid: KDE of the year before (top 5% of the area), against its counts.
    let y4 = counts_per_mahalla(n, &nat.incidents, &y4p, Source::Public);
    let g4 = gi_star(&y4, &w, &gcfg).unwrap();
    // 90%: with 999 permutations a p-value is at least 0.002 (two-sided), so after the FDR
    // correction over 10,000 places a place reaches 95% only if some 400 are that extreme
    // (docs/design/005); 90% needs half as many.
    let flags = hot_spot_flags(&g4, 0.90);
    let (s_m, t, h) = measure(a.runs, || {
        score_flags(&flags, &y4, &nat.areas_km2, &y5).unwrap()
    });
    let show = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.2}"));
    steps.push(Step {
        name: "PAI/PEI* evaluation, mahallas (Gi* hot at 90% vs last year's counts)".into(),
        detail: format!(
            "area {:.1}%: Gi* PAI {} PEI* {}, baseline PAI {} PEI* {}, preferred {:?}",
            100.0 * s_m.method.area_share,
            show(s_m.method.pai),
            show(s_m.method.pei_star),
            show(s_m.baseline.pai),
            show(s_m.baseline.pei_star),
            s_m.preferred
        ),
        median_s: t,
        runs: a.runs,
        heap_mib: h,
    });
    // The same Gi* run as a ranking: the top 5% of the area by z-score (ties shared).
    let z_scores: Vec<f64> =
        g4.z.iter()
            .zip(&nat.areas_km2)
            .map(|(z, a)| z.max(0.0) * a)
            .collect();
    let (s_z, t, h) = measure(a.runs, || {
        score_ranking(&z_scores, &y4, &nat.areas_km2, &y5, 0.05).unwrap()
    });
    steps.push(Step {
        name: "PAI/PEI* evaluation, mahallas (Gi* z top 5% of area vs last year's counts)".into(),
        detail: format!(
            "Gi* PAI {} PEI* {}, baseline PAI {} PEI* {}, preferred {:?}",
            show(s_z.method.pai),
            show(s_z.method.pei_star),
            show(s_z.baseline.pai),
            show(s_z.baseline.pei_star),
            s_z.preferred
        ),
        median_s: t,
        runs: a.runs,
        heap_mib: h,
    });
    let city_pts4: Vec<[f64; 2]> = nat
        .incidents
        .iter()
        .filter(|i| y4p.contains(i.at))
        .filter_map(|i| i.point)
        .filter(|p| in_bbox(*p, nat.city_bbox))
        .collect();
    let kde4 = kernel_density(&city_pts4, None, 400.0, &spec).unwrap();
    let (base4, _) = count_points(&city_pts4, &spec).unwrap();
    let cell_area = vec![spec.cell_m * spec.cell_m / 1e6; spec.len()];
    let (s_g, t, h) = measure(a.runs, || {
        let (held, _) = count_points(&city_pts, &spec).unwrap();
        score_ranking(&kde4, &base4, &cell_area, &held, 0.05).unwrap()
    });
    steps.push(Step {
        name: "PAI/PEI* evaluation, city grid (KDE top 5% vs last year's counts)".into(),
        detail: format!(
            "{} cells: KDE PAI {} PEI* {}, baseline PAI {} PEI* {}, preferred {:?}",
            spec.len(),
            show(s_g.method.pai),
            show(s_g.method.pei_star),
            show(s_g.baseline.pai),
            show(s_g.baseline.pei_star),
            s_g.preferred
        ),
        median_s: t,
        runs: a.runs,
        heap_mib: h,
    });

    // 7. A patrol plan for the district with the most hot spots (90%): 6 units, 3 shifts of 8
    //    hours.
    let ids: Vec<i64> = nat.mahallas.iter().map(|m| m.id.0).collect();
    let hot_places = hot_spot_places(&ids, &g5, &y5, 0.90).unwrap();
    let mut per_district = std::collections::HashMap::new();
    for p in &hot_places {
        *per_district
            .entry(nat.mahallas[(p.place - 1) as usize].district)
            .or_insert(0) += 1;
    }
    if per_district.is_empty() {
        println!("patrol plan skipped: no mahalla is hot at 90% after FDR");
    }
    if let Some((&d, _)) = per_district.iter().max_by_key(|(d, c)| (**c, d.0)) {
        let places: Vec<_> = hot_places
            .iter()
            .filter(|p| nat.mahallas[(p.place - 1) as usize].district == d)
            .cloned()
            .collect();
        let day0 = analytics::data::local_midnight(last_year + 1, 1, 1, UZ_OFFSET_S);
        let shifts: Vec<Shift> = (0..3)
            .map(|k| Shift {
                start: day0.saturating_add_micros(k * 8 * 3_600_000_000),
                end: day0.saturating_add_micros((k + 1) * 8 * 3_600_000_000),
                units: (1..=6).map(|u| format!("unit-{u}")).collect(),
            })
            .collect();
        let pcfg = PatrolConfig {
            visits_per_unit: 6,
            floor_visits: u32::from(places.len() <= 36),
            seed: 1,
        };
        let (plan, t, h) = measure(a.runs, || plan_patrols(&places, &shifts, &pcfg).unwrap());
        steps.push(Step {
            name: "patrol plan (one district, 6 units, 3 shifts)".into(),
            detail: format!(
                "{} hot spots, {} visits",
                places.len(),
                plan.shifts.iter().map(|s| s.visits.len()).sum::<usize>()
            ),
            median_s: t,
            runs: a.runs,
            heap_mib: h,
        });
    }

    // esda on the same polygons and counts.
    let gj = a.out_dir.join("national.geojson");
    std::fs::write(&gj, geojson(&nat, &y5, &g5.z)).expect("write GeoJSON");
    let mut esda_json = serde_json::Value::Null;
    if a.esda {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tools/esda_bench.py");
        println!(
            "running esda on {} ({} runs) ...",
            gj.display(),
            a.esda_runs
        );
        let out = Command::new("python3")
            .arg(&script)
            .args(["--geojson", gj.to_str().unwrap(), "--field", "count"])
            .args(["--permutations", &a.permutations.to_string()])
            .args(["--runs", &a.esda_runs.to_string(), "--json"])
            .output()
            .expect("run python3 tools/esda_bench.py");
        if out.status.success() {
            esda_json = serde_json::from_slice(&out.stdout).expect("esda_bench.py prints JSON");
        } else {
            eprintln!(
                "esda_bench.py failed ({}): {}\nInstall the peer with `pip install -r bench/requirements.txt`",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
            std::process::exit(1);
        }
    }

    println!();
    println!("| operation | median ms | runs | heap MiB | result |\n|---|---|---|---|---|");
    for s in &steps {
        println!(
            "| {} | {:.3} | {} | {:.2} | {} |",
            s.name,
            s.median_s * 1e3,
            s.runs,
            s.heap_mib,
            s.detail
        );
    }
    println!(
        "\nposbon process peak resident size (VmHWM): {:.0} MiB",
        vm_hwm_mib().unwrap_or(f64::NAN)
    );
    let mut ratio = None;
    if let Some(e) = esda_json.as_object() {
        let eg = e["gistar_median_s"].as_f64().unwrap();
        let ew = e["weights_median_s"].as_f64().unwrap();
        let r = eg / t_gi;
        ratio = Some(r);
        println!(
            "\nesda {} (libpysal {}, numba {}): G_Local star=True, {} permutations, n_jobs={}: median {eg:.3} s over {} runs; \
             libpysal Queen.from_dataframe {ew:.3} s; peak RSS {:.0} MiB; max |z_esda - z_posbon| = {:.2e}",
            e["esda"],
            e["libpysal"],
            e["numba"],
            e["permutations"],
            e["n_jobs"],
            e["gistar_runs_s"].as_array().map_or(0, |v| v.len()),
            e.get("peak_rss_mib")
                .and_then(|v| v.as_f64())
                .unwrap_or(f64::NAN),
            e.get("max_abs_z_diff_vs_posbon")
                .and_then(|v| v.as_f64())
                .unwrap_or(f64::NAN),
        );
        println!(
            "Gi* (999 permutations, same data, same run): posbon {t_gi:.3} s, esda {eg:.3} s: posbon is {r:.1}x faster"
        );
    }
    let summary = serde_json::json!({
        "mahallas": n,
        "incidents": nat.incidents.len(),
        "simulate_s": t_sim,
        "steps": steps.iter().map(|s| serde_json::json!({
            "name": s.name, "median_s": s.median_s, "runs": s.runs, "heap_mib": s.heap_mib, "detail": s.detail
        })).collect::<Vec<_>>(),
        "vm_hwm_mib": vm_hwm_mib(),
        "esda": esda_json,
        "gistar_ratio_esda_over_posbon": ratio,
    });
    let jp = a.out_dir.join("national.json");
    std::fs::write(&jp, serde_json::to_string_pretty(&summary).unwrap()).unwrap();
    println!("wrote {} and {}", gj.display(), jp.display());
}
