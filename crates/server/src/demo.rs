//! Demo data for `posbon serve --demo`: one synthetic region, district and two mahallas (marked
//! synthetic), a camera with a few events waiting for review, and one user per role. Passwords
//! are generated and returned once; only their Argon2id hashes are stored.
use domain::{
    CameraId, District, DistrictId, GeoPoint, Mahalla, MahallaId, Names, NewCamera, NewEvent,
    NewUser, Region, RegionId, Role, Scope,
};
use serde_json::json;
use store::Store;

use crate::auth::{generate_password, hash_password};

pub const REGION: RegionId = RegionId(9_000_001);
pub const DISTRICT: DistrictId = DistrictId(9_000_101);
pub const MAHALLA_A: MahallaId = MahallaId(9_010_001);
pub const MAHALLA_B: MahallaId = MahallaId(9_010_002);

/// One account made for the demo, with its password in clear: print it once, keep it nowhere.
pub struct DemoUser {
    pub username: String,
    pub role: Role,
    pub scope: Scope,
    pub password: String,
}

/// Creates the demo geography (idempotent), a camera with three pending events, and one user
/// per role whose username is not taken yet. Returns the users created.
pub async fn seed(store: &Store) -> anyhow::Result<Vec<DemoUser>> {
    seed_geography(store).await?;
    seed_users_and_camera(store).await
}

/// The demo's region, district and two mahallas, all marked synthetic. Idempotent.
pub async fn seed_geography(store: &Store) -> anyhow::Result<()> {
    let synthetic = |s: &str| Names::uz(format!("{s} (synthetic)"));
    store
        .upsert_region(&Region {
            id: REGION,
            names: synthetic("Demo viloyati"),
            geometry: None,
        })
        .await?;
    store
        .upsert_district(&District {
            id: DISTRICT,
            region: REGION,
            names: synthetic("Demo tumani"),
            geometry: None,
        })
        .await?;
    for (id, name, lon, lat) in [
        (MAHALLA_A, "Bog'ishamol", 69.24, 41.31),
        (MAHALLA_B, "Navbahor", 69.26, 41.32),
    ] {
        store
            .upsert_mahalla(&Mahalla {
                id,
                district: DISTRICT,
                names: synthetic(name),
                population: None,
                geometry: Some(json!({"type": "Point", "coordinates": [lon, lat]}).to_string()),
                synthetic: true,
            })
            .await?;
    }
    Ok(())
}

async fn seed_users_and_camera(store: &Store) -> anyhow::Result<Vec<DemoUser>> {
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
    if !made.is_empty() {
        let cam = store
            .create_camera(&NewCamera {
                name: "Demo camera, Bog'ishamol gate".into(),
                url: "file:vtest.avi".into(),
                mahalla: MAHALLA_A,
                config_toml: String::new(),
                position: Some(GeoPoint {
                    lon: 69.2405,
                    lat: 41.3102,
                }),
            })
            .await?;
        add_events(store, cam.id, 3).await?;
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
