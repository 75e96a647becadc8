//! A camera that drops: serve bikes.mp4 over RTSP on loopback (tools/rtsp_server.py, Debian's
//! GStreamer RTSP server), kill the server mid-stream, restart it, and check the source reports
//! Offline then Online and frames resume with increasing indices. Every wait is bounded.
mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::footage;
use media::{Backoff, MediaError, OpenOptions, SourceItem, open};

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

fn server_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tools/rtsp_server.py")
}

/// Starts the server on `port` (0: any free one) and waits (bounded) for its READY line.
fn start_server(port: u16) -> Server {
    let python = "/usr/bin/python3";
    assert!(
        std::path::Path::new(python).exists(),
        "{python} is missing; the RTSP test server needs Debian's python3 with python3-gi and gir1.2-gst-rtsp-server-1.0"
    );
    let mut child = Command::new(python)
        .arg(server_script())
        .arg("--file")
        .arg(footage("bikes.mp4"))
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
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
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
                panic!(
                    "tools/rtsp_server.py did not print READY within 20 s (exit: {status:?}); see its stderr above"
                );
            }
        }
    }
}

#[derive(Debug)]
enum Ev {
    Frame {
        index: u64,
        pts: f64,
        size: (u32, u32),
    },
    Offline(String),
    Online,
    End,
    Err(String),
}

/// Reads the source on its own thread so the test can bound every wait.
fn spawn_reader(mut src: Box<dyn media::FrameSource>) -> (Receiver<Ev>, JoinHandle<()>) {
    let (tx, rx) = mpsc::channel();
    let h = std::thread::spawn(move || {
        loop {
            let ev = match src.next_item() {
                Ok(Some(SourceItem::Frame(f))) => {
                    assert_eq!(f.data.len(), (f.width * f.height * 3) as usize);
                    Ev::Frame {
                        index: f.index,
                        pts: f.pts,
                        size: (f.width, f.height),
                    }
                }
                Ok(Some(SourceItem::Offline { reason, .. })) => Ev::Offline(reason),
                Ok(Some(SourceItem::Online { .. })) => Ev::Online,
                Ok(None) => Ev::End,
                Err(e) => Ev::Err(e.to_string()),
            };
            let last = matches!(ev, Ev::End | Ev::Err(_));
            if tx.send(ev).is_err() || last {
                break;
            }
        }
    });
    (rx, h)
}

fn next_ev(rx: &Receiver<Ev>, deadline: Instant, waiting_for: &str) -> Ev {
    match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(ev) => ev,
        Err(RecvTimeoutError::Timeout) => panic!("timed out waiting for {waiting_for}"),
        Err(RecvTimeoutError::Disconnected) => {
            panic!("the reader thread died waiting for {waiting_for}")
        }
    }
}

fn live_opts(stop: &Arc<AtomicBool>) -> OpenOptions {
    OpenOptions {
        rtsp_backoff: Backoff {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(2),
            factor: 2.0,
        },
        io_timeout: Duration::from_secs(3),
        max_reconnects: Some(30),
        stop: Some(stop.clone()),
        ..Default::default()
    }
}

#[test]
fn camera_drop_is_reported_and_recovered() {
    let test_deadline = Instant::now() + Duration::from_secs(55);
    let server = start_server(0);
    let port = server.port;
    let stop = Arc::new(AtomicBool::new(false));
    let src = open(&server.url, live_opts(&stop)).expect("connect to the loopback RTSP server");
    let info = src.info().clone();
    assert!(info.live);
    assert_eq!(
        (info.width, info.height, info.codec.as_str()),
        (640, 272, "h264")
    );
    assert!(info.frame_count.is_none());
    let (rx, reader) = spawn_reader(src);

    // Phase 1: 30 frames flow.
    let mut last_index = None;
    let mut last_pts = f64::NEG_INFINITY;
    let mut before = 0;
    let phase1 = (Instant::now() + Duration::from_secs(15)).min(test_deadline);
    while before < 30 {
        match next_ev(&rx, phase1, "the first 30 frames") {
            Ev::Frame { index, pts, size } => {
                assert_eq!(size, (640, 272));
                assert_eq!(
                    index,
                    last_index.map_or(0, |i| i + 1),
                    "indices run without gaps"
                );
                assert!(pts > last_pts, "pts must increase ({pts} after {last_pts})");
                last_index = Some(index);
                last_pts = pts;
                before += 1;
            }
            other => panic!("before the drop: unexpected {other:?}"),
        }
    }

    // Phase 2: the camera dies mid-stream.
    drop(server);
    let killed_at = Instant::now();
    let phase2 = (Instant::now() + Duration::from_secs(10)).min(test_deadline);
    let reason = loop {
        match next_ev(&rx, phase2, "Offline after the server was killed") {
            Ev::Frame { index, pts, .. } => {
                // Frames already received before the drop may still be drained.
                assert_eq!(Some(index), last_index.map(|i| i + 1));
                assert!(pts > last_pts);
                last_index = Some(index);
                last_pts = pts;
            }
            Ev::Offline(reason) => break reason,
            other => panic!("expected Offline, got {other:?}"),
        }
    };
    assert!(
        killed_at.elapsed() < Duration::from_secs(5),
        "the drop took {:?} to notice",
        killed_at.elapsed()
    );
    assert!(!reason.is_empty());
    eprintln!("Offline {:?} after the kill: {reason}", killed_at.elapsed());

    // Phase 3: it comes back on the same port; Online, then frames with increasing indices.
    std::thread::sleep(Duration::from_millis(500));
    let server2 = start_server(port);
    assert_eq!(server2.port, port);
    let phase3 = (Instant::now() + Duration::from_secs(20)).min(test_deadline);
    match next_ev(&rx, phase3, "Online after the server restarted") {
        Ev::Online => eprintln!("Online {:?} after the kill", killed_at.elapsed()),
        other => panic!("expected Online, got {other:?}"),
    }
    let mut after = 0;
    while after < 30 {
        match next_ev(&rx, phase3, "frames after reconnecting") {
            Ev::Frame { index, pts, size } => {
                assert_eq!(size, (640, 272));
                assert_eq!(
                    Some(index),
                    last_index.map(|i| i + 1),
                    "indices keep counting across the reconnect"
                );
                assert!(
                    pts > last_pts,
                    "pts must keep increasing across the reconnect ({pts} after {last_pts})"
                );
                last_index = Some(index);
                last_pts = pts;
                after += 1;
            }
            other => panic!("after Online: unexpected {other:?}"),
        }
    }
    assert!(last_index.unwrap() >= 59);

    // Stop: the reader ends within a bounded time.
    stop.store(true, Ordering::Relaxed);
    let stop_deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match rx.recv_timeout(stop_deadline.saturating_duration_since(Instant::now())) {
            Ok(Ev::End) | Err(RecvTimeoutError::Disconnected) => break,
            Ok(Ev::Frame { .. }) => {}
            Ok(other) => panic!("while stopping: {other:?}"),
            Err(RecvTimeoutError::Timeout) => panic!("the source did not stop within 5 s"),
        }
    }
    reader.join().unwrap();
    drop(server2);
}

#[test]
fn gives_up_after_max_reconnects() {
    let server = start_server(0);
    let stop = Arc::new(AtomicBool::new(false));
    let opts = OpenOptions {
        max_reconnects: Some(2),
        ..live_opts(&stop)
    };
    let src = open(&server.url, opts).expect("connect");
    let (rx, reader) = spawn_reader(src);
    let deadline = Instant::now() + Duration::from_secs(30);
    for _ in 0..5 {
        assert!(matches!(next_ev(&rx, deadline, "frames"), Ev::Frame { .. }));
    }
    drop(server);
    let err = loop {
        match next_ev(&rx, deadline, "the give-up error") {
            Ev::Frame { .. } | Ev::Offline(_) => {}
            Ev::Err(e) => break e,
            other => panic!("expected an error, got {other:?}"),
        }
    };
    eprintln!("{err}");
    assert!(err.contains("gave up after 2 reconnect attempts"), "{err}");
    assert!(err.contains("Connection refused"), "{err}");
    reader.join().unwrap();
}

#[test]
fn wrong_path_on_a_live_server_is_a_clear_error() {
    let server = start_server(0);
    let uri = format!("rtsp://127.0.0.1:{}/no-such-camera", server.port);
    let stop = Arc::new(AtomicBool::new(false));
    let err = open(&uri, live_opts(&stop)).err().expect("no such mount");
    assert!(matches!(err, MediaError::Connect { .. }), "{err}");
    let msg = err.to_string();
    eprintln!("{msg}");
    assert!(
        msg.starts_with(&format!("could not connect to {uri}: ")),
        "{msg}"
    );
    assert!(msg.contains("404") || msg.contains("Not Found"), "{msg}");
}

/// The server loops the 10 s file with a flushing seek, so the stream's timestamps restart: the
/// source must keep pts increasing (and in step with the wall clock) through it.
#[test]
fn looping_stream_keeps_pts_increasing() {
    let server = start_server(0);
    let stop = Arc::new(AtomicBool::new(false));
    let src = open(&server.url, live_opts(&stop)).expect("connect");
    let (rx, reader) = spawn_reader(src);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(40);
    let mut last = (None::<u64>, f64::NEG_INFINITY);
    // 250 frames in the file: 300 crosses the loop point.
    while last.0.is_none_or(|i| i < 300) {
        match next_ev(&rx, deadline, "300 frames across the loop point") {
            Ev::Frame { index, pts, .. } => {
                assert_eq!(Some(index), last.0.map_or(Some(0), |i| Some(i + 1)));
                assert!(
                    pts > last.1,
                    "pts went back at frame {index}: {pts} after {}",
                    last.1
                );
                last = (Some(index), pts);
            }
            other => panic!("unexpected {other:?} on a stream that never drops"),
        }
    }
    let wall = started.elapsed().as_secs_f64();
    eprintln!("300 frames: pts {:.2} s, wall {wall:.2} s", last.1);
    assert!(
        (last.1 - wall).abs() < 3.0,
        "pts {:.2} s drifted from wall time {wall:.2} s",
        last.1
    );
    stop.store(true, Ordering::Relaxed);
    drop(rx);
    reader.join().unwrap();
}

/// A camera that hangs (process stopped, TCP connection still open) must be noticed within
/// `io_timeout`, not block forever; when it wakes up the source comes back.
#[test]
fn hung_camera_is_noticed_within_the_timeout() {
    let server = start_server(0);
    let stop = Arc::new(AtomicBool::new(false));
    let opts = OpenOptions {
        io_timeout: Duration::from_secs(2),
        ..live_opts(&stop)
    };
    let src = open(&server.url, opts).expect("connect");
    let (rx, reader) = spawn_reader(src);
    let deadline = Instant::now() + Duration::from_secs(45);
    for _ in 0..10 {
        assert!(matches!(next_ev(&rx, deadline, "frames"), Ev::Frame { .. }));
    }
    let pid = server.child.id().to_string();
    let signal = |sig: &str| {
        let ok = Command::new("kill")
            .args([sig, &pid])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "kill {sig} {pid} failed");
    };
    signal("-STOP");
    let hung_at = Instant::now();
    let reason = loop {
        match next_ev(&rx, deadline, "Offline for a hung camera") {
            Ev::Frame { .. } => {}
            Ev::Offline(r) => break r,
            other => panic!("expected Offline, got {other:?}"),
        }
    };
    let noticed = hung_at.elapsed();
    eprintln!("hung camera noticed after {noticed:?}: {reason}");
    assert!(
        noticed < Duration::from_secs(5),
        "took {noticed:?} to notice a hung camera"
    );
    std::thread::sleep(Duration::from_secs(1));
    signal("-CONT");
    match next_ev(&rx, deadline, "Online after the camera woke up") {
        Ev::Online => eprintln!("Online {:?} after the hang began", hung_at.elapsed()),
        other => panic!("expected Online, got {other:?}"),
    }
    assert!(matches!(
        next_ev(&rx, deadline, "a frame after Online"),
        Ev::Frame { .. }
    ));
    stop.store(true, Ordering::Relaxed);
    drop(rx);
    reader.join().unwrap();
}
