//! A live camera that drops and comes back: bikes.mp4 served over RTSP on loopback
//! (tools/rtsp_server.py, Debian's GStreamer RTSP server), the server killed mid-stream and
//! restarted on the same port. The worker records exactly one `camera_offline` and then one
//! `camera_online` in the review queue, and frames flow again. Every wait is bounded.
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use domain::{
    Actor, CameraState, CameraStatus, District, DistrictId, Mahalla, MahallaId, Names, NewCamera,
    Region, RegionId, Scope,
};
use store::Store;

/// The RTSP test server process; killed when dropped.
struct Server {
    child: Child,
    url: String,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(port: u16) -> Server {
    let python = "/usr/bin/python3";
    assert!(
        std::path::Path::new(python).exists(),
        "{python} is missing; the RTSP test server needs Debian's python3 with python3-gi and gir1.2-gst-rtsp-server-1.0"
    );
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tools/rtsp_server.py");
    let video = assets::require("footage/bikes.mp4").unwrap_or_else(|e| panic!("{e}"));
    let mut child = Command::new(python)
        .arg(script)
        .arg("--file")
        .arg(video)
        .args(["--port", &port.to_string(), "--path", "/cam"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start tools/rtsp_server.py");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => {
                if let Some(url) = line.strip_prefix("READY ") {
                    let port = url
                        .rsplit(':')
                        .next()
                        .unwrap()
                        .split('/')
                        .next()
                        .unwrap()
                        .parse()
                        .unwrap();
                    return Server {
                        child,
                        url: url.to_string(),
                        port,
                    };
                }
            }
            Err(_) => {
                let _ = child.kill();
                let status = child.wait();
                panic!("tools/rtsp_server.py did not print READY within 20 s (exit: {status:?})");
            }
        }
    }
}

async fn status_where(
    s: &Store,
    id: domain::CameraId,
    secs: u64,
    what: &str,
    ok: impl Fn(&CameraStatus) -> bool,
) -> CameraStatus {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(st) = s.get_camera_status(id).await.unwrap()
            && ok(&st)
        {
            return st;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {secs} s waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn rules(s: &Store) -> Vec<String> {
    s.list_pending_events(&Scope::National, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.rule)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_camera_that_drops_and_returns_gives_one_offline_and_one_online() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite:{}", dir.path().join("db").display()))
        .await
        .unwrap();
    store
        .import_geography(
            &[Region {
                id: RegionId(1),
                names: Names::uz("r"),
                geometry: None,
            }],
            &[District {
                id: DistrictId(2),
                region: RegionId(1),
                names: Names::uz("d"),
                geometry: None,
            }],
            &[Mahalla {
                id: MahallaId(3),
                district: DistrictId(2),
                names: Names::uz("m"),
                population: None,
                geometry: None,
                synthetic: true,
            }],
        )
        .await
        .unwrap();
    let server = start_server(0);
    let port = server.port;
    let cam = store
        .register_camera(
            &NewCamera {
                name: "bikes".into(),
                url: server.url.clone(),
                mahalla: MahallaId(3),
                // No rules: the pipeline tracks, and only health events are recorded.
                config_toml: "[detector]\nclasses = [\"person\", \"bicycle\"]\n".into(),
                position: None,
            },
            &Actor::system("test").unwrap(),
        )
        .await
        .unwrap();
    let data = dir.path().join("data");
    let mut opts = workers::Options::new(&data);
    opts.status_every = Duration::from_millis(200);
    opts.io_timeout = Duration::from_secs(2);
    opts.reconnect = media::Backoff {
        initial: Duration::from_millis(200),
        max: Duration::from_secs(1),
        factor: 2.0,
    };
    let sup = workers::Supervisor::new(
        store.clone(),
        Arc::new(workers::OnnxEngine::new(
            &data,
            infer::InferConfig::default().with_threads(2),
        )),
        opts,
        tokio::runtime::Handle::current(),
    );
    sup.start_all().await.unwrap();

    let before = status_where(&store, cam.id, 60, "frames flowing", |s| {
        s.state == CameraState::Online && s.frames >= 20
    })
    .await;
    assert!(rules(&store).await.is_empty(), "no alert while it streams");

    // The camera dies.
    drop(server);
    let offline = status_where(&store, cam.id, 20, "the camera offline", |s| {
        s.state == CameraState::Offline
    })
    .await;
    assert!(offline.last_error.is_some());
    assert_eq!(rules(&store).await, ["camera_offline"]);

    // It comes back on the same port: one camera_online, and frames count on.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let server2 = start_server(port);
    assert_eq!(server2.port, port);
    let after = status_where(&store, cam.id, 60, "frames after the return", |s| {
        s.state == CameraState::Online && s.frames >= offline.frames + 20
    })
    .await;
    assert!(after.frames > before.frames);
    assert_eq!(rules(&store).await, ["camera_offline", "camera_online"]);
    let m = sup.metrics_text();
    assert!(
        m.contains(&format!(
            "posbon_camera_offline_alerts_total{{camera=\"{}\"}} 1",
            cam.id.0
        )),
        "{m}"
    );
    sup.shutdown().await;
    drop(server2);
}
