//! Demo data for `posbon serve --demo`: Uzbekistan's real regions and districts (parsed from the
//! registry packages by the caller, since this crate reads no asset files), synthetic mahallas
//! in Chilonzor district of Tashkent city (named "... (synthetic)" and flagged synthetic), a
//! camera with a few events waiting for review, and one user per role. Passwords are generated
//! and returned once; only their Argon2id hashes are stored.
use domain::{
    Actor, CameraId, District, DistrictId, GeoPoint, MahallaId, Names, NewCamera, NewEvent,
    NewUser, Region, RegionId, Role, Scope,
};
use registry::Geography;
use registry::demo::{DEMO_DISTRICT, demo_spec, mahalla_id, synthetic_mahallas};
use serde_json::{Value, json};
use store::Store;

use crate::auth::{generate_password, hash_password};

/// Tashkent city.
pub const REGION: RegionId = RegionId(1726);
/// Chilonzor district of Tashkent city, where the synthetic mahallas lie.
pub const DISTRICT: DistrictId = DEMO_DISTRICT;
/// The first and second synthetic mahallas ([`registry::demo::mahalla_id`]).
pub const MAHALLA_A: MahallaId = MahallaId(DEMO_DISTRICT.0 * 1000 + 1);
pub const MAHALLA_B: MahallaId = MahallaId(DEMO_DISTRICT.0 * 1000 + 2);

/// One account made for the demo, with its password in clear: print it once, keep it nowhere.
pub struct DemoUser {
    pub username: String,
    pub role: Role,
    pub scope: Scope,
    pub password: String,
}

/// The registry's geography and where it came from (packages, file hashes), for the audit log.
pub struct RealGeography<'a> {
    pub geography: &'a Geography,
    pub source: Value,
}

/// Creates the demo geography (idempotent): with `real`, every region and district of the
/// registry; without, only Tashkent city and Chilonzor district. Then the synthetic mahallas, a
/// camera with three pending events, and one user per role whose username is not taken yet.
/// Returns the users created.
pub async fn seed(store: &Store, real: Option<RealGeography<'_>>) -> anyhow::Result<Vec<DemoUser>> {
    match real {
        Some(r) => seed_real_geography(store, &r).await?,
        None => seed_geography(store).await?,
    }
    seed_users_and_camera(store).await
}

/// What `posbon serve --demo` seeds: the geography and one user per role, but no placeholder
/// camera or events, since the server attaches the sample footage as a real camera whose events
/// fill the review queue.
pub async fn seed_for_live_camera(
    store: &Store,
    real: RealGeography<'_>,
) -> anyhow::Result<Vec<DemoUser>> {
    seed_real_geography(store, &real).await?;
    seed_synthetic_incidents(store).await?;
    let made = seed_users(store).await?;
    seed_patrols_and_roadmaps(store).await?;
    Ok(made)
}

/// Two years of synthetic incidents over the synthetic mahallas (see
/// [`crate::analysis::demo`]), recorded by `system:demo-synthetic` with one audit entry
/// (`incidents.import`), for the analytics pages. Once per database: returns how many were
/// added (0 when they are there already).
pub async fn seed_synthetic_incidents(store: &Store) -> anyhow::Result<usize> {
    let actor = Actor::System("demo-synthetic".into());
    if store.count_incidents_created_by(&actor).await? > 0 {
        return Ok(0);
    }
    let rows =
        crate::analysis::demo::synthetic_incidents(&synthetic_mahallas(&demo_spec()), store.now());
    let source = json!({
        "generator": "posbon serve --demo",
        "synthetic": true,
        "months": crate::analysis::demo::MONTHS,
    });
    Ok(store.import_incidents(&actor, &source, &rows).await?.len())
}

/// The registry's regions and districts (audited as `geography.import_registry`), then the
/// synthetic mahallas. Idempotent.
pub async fn seed_real_geography(store: &Store, real: &RealGeography<'_>) -> anyhow::Result<()> {
    let g = real.geography;
    anyhow::ensure!(
        g.districts
            .iter()
            .any(|d| d.id == DISTRICT && d.region == REGION),
        "the registry data has no district {DISTRICT} in region {REGION} (Chilonzor, Tashkent city), where the demo puts its mahallas"
    );
    store
        .import_registry(
            &Actor::System("demo".into()),
            &real.source,
            &g.regions,
            &g.districts,
        )
        .await?;
    seed_mahallas(store).await
}

/// Tashkent city and Chilonzor district with their names as the registry gives them (no
/// outlines), and the synthetic mahallas. Idempotent; for tests and a demo without the registry
/// files.
pub async fn seed_geography(store: &Store) -> anyhow::Result<()> {
    let n = |uz: &str, cyrl: &str, ru: &str, en: &str| Names {
        uz_latn: uz.into(),
        uz_cyrl: Some(cyrl.into()),
        ru: Some(ru.into()),
        en: Some(en.into()),
    };
    store
        .import_geography(
            &[Region {
                id: REGION,
                names: n(
                    "Toshkent shahri",
                    "Тошкент шаҳри",
                    "Город Ташкент",
                    "Tashkent",
                ),
                geometry: None,
            }],
            &[District {
                id: DISTRICT,
                region: REGION,
                names: n(
                    "Chilonzor tumani",
                    "Чилонзор тумани",
                    "Чиланзарский район",
                    "Chilonzor district",
                ),
                geometry: None,
            }],
            &[],
        )
        .await?;
    seed_mahallas(store).await
}

/// The synthetic mahallas (ids [`registry::demo::mahalla_id`]`(DISTRICT, 1..)`), upserted.
async fn seed_mahallas(store: &Store) -> anyhow::Result<()> {
    let ms = synthetic_mahallas(&demo_spec());
    debug_assert_eq!(ms[0].id, mahalla_id(DISTRICT, 1));
    store.import_geography(&[], &[], &ms).await?;
    Ok(())
}

/// Where the demo camera stands: the middle of mahalla A's outline.
async fn camera_position(store: &Store) -> anyhow::Result<Option<GeoPoint>> {
    let Some(m) = store.get_mahalla(MAHALLA_A).await? else {
        return Ok(None);
    };
    let Some(shape) = m
        .geometry
        .as_deref()
        .and_then(|g| registry::geom::Shape::parse_text(g).ok())
    else {
        return Ok(None);
    };
    let ps: Vec<[f64; 2]> = shape.positions().collect();
    let n = (ps.len().max(2) - 1) as f64; // a closed ring repeats its first position
    let (lon, lat) = ps[..ps.len().saturating_sub(1).max(1)]
        .iter()
        .fold((0.0, 0.0), |(x, y), p| (x + p[0], y + p[1]));
    Ok(Some(GeoPoint {
        lon: (lon / n * 1e6).round() / 1e6,
        lat: (lat / n * 1e6).round() / 1e6,
    }))
}

async fn seed_users_and_camera(store: &Store) -> anyhow::Result<Vec<DemoUser>> {
    let made = seed_users(store).await?;
    if !made.is_empty() {
        let cam = store
            .create_camera(&NewCamera {
                name: "Demo camera, Navbahor (synthetic) gate".into(),
                url: "file:vtest.avi".into(),
                mahalla: MAHALLA_A,
                config_toml: String::new(),
                position: camera_position(store).await?,
            })
            .await?;
        add_events(store, cam.id, 3).await?;
    }
    Ok(made)
}

/// One user per role whose username is not taken yet; returns those made, with their passwords.
async fn seed_users(store: &Store) -> anyhow::Result<Vec<DemoUser>> {
    let accounts = [
        ("admin", Role::Admin, Scope::National),
        ("operator", Role::Operator, Scope::District(DISTRICT)),
        ("inspector", Role::Inspector, Scope::Mahalla(MAHALLA_A)),
        ("analyst", Role::Analyst, Scope::Region(REGION)),
        ("auditor", Role::Auditor, Scope::National),
    ];
    let mut made = Vec::new();
    for (username, role, scope) in accounts {
        if store.get_user_by_username(username).await?.is_some() {
            continue;
        }
        let password = generate_password();
        let hash = tokio::task::spawn_blocking({
            let p = password.clone();
            move || hash_password(&p)
        })
        .await??;
        store
            .create_user(&NewUser {
                username: username.into(),
                display_name: format!("Demo {role}"),
                password_hash: hash,
                role,
                scope,
            })
            .await?;
        made.push(DemoUser {
            username: username.into(),
            role,
            scope,
            password,
        });
    }
    Ok(made)
}

/// `n` events from `camera`, a minute apart, for the review queue.
pub async fn add_events(store: &Store, camera: CameraId, n: i64) -> anyhow::Result<()> {
    let now = store.now();
    for k in 0..n {
        store
            .insert_event(&NewEvent {
                camera,
                rule: "loitering".into(),
                at: now.saturating_add_micros(-(n - k) * 60_000_000),
                payload: json!({ "kind": "loitering", "zone": "gate", "demo": true }),
            })
            .await?;
    }
    Ok(())
}

/// Synthetic patrol plan and logs, and roadmaps for the demo district and each of its mahallas
/// (one measure overdue), verified where needed by the demo's admin. Idempotent.
pub async fn seed_patrols_and_roadmaps(store: &Store) -> anyhow::Result<()> {
    crate::patrols::seed_demo(store, DISTRICT).await?;
    let admin = store.get_user_by_username("admin").await?.map(|u| u.id);
    crate::roadmaps::seed_demo(store, DISTRICT, admin).await
}
