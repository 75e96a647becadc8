//! `posbon serve` (the HTTP API) and `posbon users create`. See docs/design/008-server.md.
use std::net::SocketAddr;

use anyhow::{Context, Result};
use domain::{Actor, NewUser, Role, Scope};
use serde_json::json;
use store::Store;

/// Where `serve` keeps its SQLite file when no --database is given.
pub const DEFAULT_DATABASE: &str = "sqlite:posbon-data/posbon.db";

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// sqlite:PATH (created if missing) or postgres://USER@HOST:PORT/DATABASE. Default: an
    /// SQLite file under ./posbon-data/.
    #[arg(long, value_name = "URL")]
    database: Option<String>,
    /// Add Uzbekistan's regions and districts (from the fetched registry packages), synthetic
    /// mahallas in Chilonzor (Tashkent), and one user per role whose username is free (their
    /// passwords are printed once); attach the sample footage vtest.avi as a live camera.
    #[arg(long)]
    demo: bool,
    /// Folder for evidence and other files (evidence/camera-ID/ per camera).
    #[arg(long, value_name = "DIR", default_value = "posbon-data")]
    data_dir: std::path::PathBuf,
    /// Delete events not attached to an incident, and their evidence, after this many days
    /// (checked hourly); 0 turns retention off.
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    retention_days: u32,
    /// Mark the session cookie Secure (set this when a TLS proxy is in front).
    #[arg(long)]
    secure_cookies: bool,
    /// The key of the cameras' sealed originals (`posbon evidence keygen`). Without it, approved
    /// access requests cannot open originals.
    #[arg(long, value_name = "FILE")]
    evidence_key: Option<std::path::PathBuf>,
    /// Run no camera pipelines in this process (cameras can still be registered and edited;
    /// their configurations are checked).
    #[arg(long)]
    no_workers: bool,
    #[command(flatten)]
    engine: crate::detector::EngineArgs,
    /// For benchmarks of the checks: add N synthetic reported payees (phones, cards, IBANs;
    /// `server::payee::synthetic`) to the in-memory index. Never stored; not for production.
    #[arg(long, value_name = "N")]
    synthetic_threats: Option<u64>,
}

#[derive(clap::Subcommand, Debug)]
pub enum UsersCmd {
    /// Create an account; its generated password is printed once and stored only as an Argon2id
    /// hash.
    Create(CreateArgs),
}

#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    #[arg(long, value_name = "URL", default_value = DEFAULT_DATABASE)]
    database: String,
    #[arg(long)]
    username: String,
    /// admin, operator, inspector, analyst or auditor.
    #[arg(long)]
    role: Role,
    /// national, region:ID, district:ID or mahalla:ID.
    #[arg(long)]
    scope: Scope,
    #[arg(long)]
    display_name: Option<String>,
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Opens the database, making the directory of a default SQLite file first.
pub async fn open(url: &str) -> Result<Store> {
    if url == DEFAULT_DATABASE {
        std::fs::create_dir_all("posbon-data").context("cannot create ./posbon-data")?;
    }
    Ok(Store::connect(url).await?)
}

pub fn serve(a: &ServeArgs) -> Result<()> {
    runtime()?.block_on(async {
        let url = a.database.as_deref().unwrap_or(DEFAULT_DATABASE);
        let store = open(url).await?;
        tracing::info!(target: "posbon", database = %store.url(), backend = %store.backend(), "database ready");
        if a.demo {
            let (geography, source) = crate::cmd_import::load_registry()?;
            let made = server::demo::seed_for_live_camera(
                &store,
                server::demo::RealGeography {
                    geography: &geography,
                    source,
                },
            )
            .await?;
            println!(
                "demo: {} regions, {} districts, {} synthetic mahallas in Chilonzor (Tashkent)",
                geography.regions.len(),
                geography.districts.len(),
                registry::demo::DEMO_COUNT
            );
            if made.is_empty() {
                println!("demo: users already exist; their passwords were printed when they were made");
            }
            for u in &made {
                println!(
                    "demo user {:<10} role {:<9} scope {:<16} password {}",
                    u.username,
                    u.role.as_str(),
                    u.scope.to_string(),
                    u.password
                );
            }
        }
        let config = server::Config {
            secure_cookies: a.secure_cookies,
            data_dir: a.data_dir.clone(),
            retention_days: a.retention_days,
            evidence_key: a.evidence_key.clone(),
            card_key: Some(server::threat::default_card_key_path(&a.data_dir)),
            ..server::Config::default()
        };
        if a.demo {
            let cam = crate::cameras::attach_demo_camera(&store).await?;
            println!(
                "demo camera {} ({}) plays vtest.avi; its events reach the review queue as they happen",
                cam.id, cam.name
            );
        }
        let (supervisor, control) = if a.no_workers {
            let engine = workers::OnnxEngine::new(&a.data_dir, a.engine.infer_config());
            let c: std::sync::Arc<dyn server::cameras::CameraControl> =
                std::sync::Arc::new(crate::cameras::CheckOnly { engine });
            (None, c)
        } else {
            let (s, c) = crate::cameras::start_workers(&store, &a.data_dir, &a.engine).await?;
            (Some(s), c)
        };
        let mut state = server::AppState::new(store.clone(), &config)?.with_cameras(control);
        // Photos attached to incidents are blurred with the cameras' face model; without it
        // the server refuses photos rather than keep them as sent.
        let photo_engine = workers::OnnxEngine::new(&a.data_dir, a.engine.infer_config());
        match workers::Engine::faces(&photo_engine) {
            Ok(f) => {
                state = state.with_photos(std::sync::Arc::new(crate::photos::FacePhotos(
                    workers::photo::Photos::new(f),
                )));
            }
            Err(e) => {
                tracing::warn!(target: "posbon", error = %e, "photos cannot be attached to incidents: the face model did not load");
            }
        }
        server::fraud::load_threats(&store, &state.threats).await?;
        if let Some(n) = a.synthetic_threats {
            let t = std::time::Instant::now();
            let now = domain::Timestamp::now().unix_micros() / 1_000_000;
            let l = server::payee::synthetic::load(&state.threats, n, now);
            println!(
                "synthetic: {} payees in {} reports added to the in-memory index in {:.1?} (not stored)",
                l.payees, l.reports, t.elapsed()
            );
        }
        let listener = tokio::net::TcpListener::bind(a.listen)
            .await
            .with_context(|| format!("cannot listen on {}", a.listen))?;
        let addr = listener.local_addr()?;
        tracing::info!(target: "posbon", %addr, "listening");
        println!(
            "posbon serving on http://{addr}: the console at http://{addr}/console, OpenAPI at /openapi.json; Ctrl-C stops it"
        );
        let sweeper = server::spawn_session_sweeper(store.clone());
        let retention = (config.retention_days > 0).then(|| {
            server::retention::spawn(store.clone(), config.data_dir.clone(), config.retention_days)
        });
        server::serve(listener, state, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("the server failed")?;
        sweeper.abort();
        if let Some(r) = retention {
            r.abort();
        }
        if let Some(s) = supervisor {
            s.shutdown().await;
        }
        store.close().await;
        Ok(())
    })
}

pub fn users(cmd: &UsersCmd) -> Result<()> {
    let UsersCmd::Create(a) = cmd;
    runtime()?.block_on(async {
        let store = open(&a.database).await?;
        let password = server::auth::generate_password();
        let hash = server::auth::hash_password(&password)?;
        let user = store
            .create_user(&NewUser {
                username: a.username.clone(),
                display_name: a.display_name.clone().unwrap_or_else(|| a.username.clone()),
                password_hash: hash,
                role: a.role,
                scope: a.scope,
            })
            .await?;
        store
            .audit_append(
                &Actor::system("cli")?.to_string(),
                "user.create",
                &Actor::User(user.id).to_string(),
                &json!({ "username": user.username, "role": user.role.as_str(), "scope": user.scope.to_string() }),
            )
            .await?;
        println!(
            "created user {} (id {}, role {}, scope {})\npassword (shown once): {password}",
            user.username, user.id, user.role, user.scope
        );
        store.close().await;
        Ok(())
    })
}
