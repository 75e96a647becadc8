//! Plugs the camera workers into the HTTP server, and the demo camera of `posbon serve --demo`.
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use domain::{Actor, Camera, CameraId, CameraStatus, CameraUpdate, GeoPoint, NewCamera};
use server::cameras::{CameraControl, Snapshot};
use store::Store;

/// The workers' supervisor as the server's [`CameraControl`].
pub struct Workers(pub workers::Supervisor);

impl CameraControl for Workers {
    fn validate_config(&self, toml: &str) -> Result<(), String> {
        self.0.validate_config(toml)
    }
    fn validate_url(&self, url: &str) -> Result<(), String> {
        self.0.validate_url(url)
    }
    fn apply(&self, camera: &Camera) {
        self.0.apply(camera)
    }
    fn remove(&self, id: CameraId) {
        self.0.remove(id)
    }
    fn health(&self) -> Vec<CameraStatus> {
        self.0.health()
    }
    fn snapshot(&self, id: CameraId, wait: Duration) -> Option<Snapshot> {
        self.0.snapshot(id, wait).map(|s| Snapshot {
            jpeg: s.jpeg,
            at: s.at,
        })
    }
    fn metrics(&self) -> String {
        self.0.metrics_text()
    }
}

/// `--no-workers`: configurations and URLs are still checked, so cameras can be registered and
/// edited, but no pipeline runs (another process, or a later start, runs them).
pub struct CheckOnly {
    pub engine: workers::OnnxEngine,
}

impl CameraControl for CheckOnly {
    fn validate_config(&self, toml: &str) -> Result<(), String> {
        workers::check_config(&self.engine, toml, &self.engine.base_dir).map(|_| ())
    }
    fn validate_url(&self, url: &str) -> Result<(), String> {
        workers::check_url(url)
    }
    fn apply(&self, _camera: &Camera) {}
    fn remove(&self, _id: CameraId) {}
    fn health(&self) -> Vec<CameraStatus> {
        Vec::new()
    }
    fn snapshot(&self, _id: CameraId, _wait: Duration) -> Option<Snapshot> {
        None
    }
}

/// The demo camera's configuration (zones and rules drawn for vtest.avi).
pub const DEMO_CAMERA_TOML: &str = include_str!("../../../config/demo-camera.toml");
pub const DEMO_CAMERA_NAME: &str = "Pedestrian square (sample footage vtest.avi)";

/// Attaches vtest.avi from the asset cache as a camera of the demo's first mahalla, with
/// config/demo-camera.toml, so that its events reach the review queue live. The placeholder
/// camera the demo seed registers (`file:vtest.avi`, no configuration) is pointed at the real
/// file instead of adding a second one; an existing demo camera is left as it is.
pub async fn attach_demo_camera(store: &Store) -> Result<Camera> {
    let video = assets::require("footage/vtest.avi")
        .context("the demo camera plays vtest.avi: run `posbon assets fetch` first")?;
    let url = format!("file:{}", video.display());
    let actor = Actor::system("demo")?;
    let cameras = store.list_cameras(&domain::Scope::National).await?;
    if let Some(c) = cameras.iter().find(|c| c.name == DEMO_CAMERA_NAME) {
        if c.url != url {
            let u = CameraUpdate {
                url: Some(url),
                ..Default::default()
            };
            return Ok(store.update_camera(c.id, &u, &actor).await?);
        }
        return Ok(c.clone());
    }
    if let Some(c) = cameras
        .iter()
        .find(|c| c.url == "file:vtest.avi" && c.config_toml.trim().is_empty())
    {
        let u = CameraUpdate {
            name: Some(DEMO_CAMERA_NAME.into()),
            url: Some(url),
            config_toml: Some(DEMO_CAMERA_TOML.into()),
            ..Default::default()
        };
        return Ok(store.update_camera(c.id, &u, &actor).await?);
    }
    Ok(store
        .register_camera(
            &NewCamera {
                name: DEMO_CAMERA_NAME.into(),
                url,
                mahalla: server::demo::MAHALLA_A,
                config_toml: DEMO_CAMERA_TOML.into(),
                position: Some(GeoPoint {
                    lon: 69.2405,
                    lat: 41.3102,
                }),
            },
            &actor,
        )
        .await?)
}

/// Starts the workers' supervisor over `store` and every enabled camera.
pub async fn start_workers(
    store: &Store,
    data_dir: &std::path::Path,
    engine: &crate::detector::EngineArgs,
) -> Result<(workers::Supervisor, Arc<dyn CameraControl>)> {
    let onnx = workers::OnnxEngine::new(data_dir, engine.infer_config());
    let sup = workers::Supervisor::new(
        store.clone(),
        Arc::new(onnx),
        workers::Options::new(data_dir),
        tokio::runtime::Handle::current(),
    );
    let n = sup.start_all().await?;
    tracing::info!(target: "posbon", cameras = n, "camera workers started");
    Ok((sup.clone(), Arc::new(Workers(sup))))
}
