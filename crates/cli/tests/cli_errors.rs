//! Bad input through the binary: a clear message on stderr, a failing exit code, never a panic.
use std::path::Path;
use std::process::{Command, Output};

fn posbon(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_posbon"))
        .args(args)
        .output()
        .unwrap()
}

fn demo_config() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../config/demo-camera.toml")
        .to_str()
        .unwrap()
        .to_string()
}

fn assert_clean_failure(out: &Output, needles: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should fail: {err}");
    assert!(!err.contains("panicked"), "panicked: {err}");
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}: {err}");
    }
}

#[test]
fn garbage_video_is_named_and_nothing_panics() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("garbage.avi");
    std::fs::write(
        &bad,
        (0..200_000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    let out = posbon(&[
        "analyze",
        bad.to_str().unwrap(),
        "--config",
        &demo_config(),
        "--out",
        dir.path().join("o").to_str().unwrap(),
    ]);
    assert_clean_failure(&out, &["garbage.avi", "not a video"]);
}

#[test]
fn a_malformed_camera_config_gives_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("cam.toml");
    std::fs::write(
        &cfg,
        "[camera]\nid = \"c1\"\n\n[[zones]]\nname = \"z\"\npolygon = [[0.1, 0.1], [0.5 0.5]]\n",
    )
    .unwrap();
    let out = posbon(&[
        "analyze",
        "x.avi",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_clean_failure(&out, &["cam.toml", "line 6"]);
}

#[test]
fn an_unreachable_camera_is_reported_with_its_address() {
    let dir = tempfile::tempdir().unwrap();
    // a port nothing listens on: bind, read the port, close
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("rtsp://user:secret@127.0.0.1:{port}/cam");
    let out = posbon(&[
        "analyze",
        &url,
        "--config",
        &demo_config(),
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_clean_failure(&out, &[&format!("127.0.0.1:{port}"), "could not connect"]);
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("secret"),
        "password leaked into the message"
    );
}

#[test]
fn a_model_file_that_is_not_what_its_description_says_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let onnx = dir.path().join("fake.onnx");
    std::fs::write(&onnx, b"this is not an ONNX model").unwrap();
    let names = assets::require("yolov4-tiny/coco.names").unwrap();
    let model = dir.path().join("fake.toml");
    std::fs::write(
        &model,
        format!(
            "name = \"fake\"\nfile = \"{}\"\nclasses = \"{}\"\n[input]\nname = \"input\"\nwidth = 416\nheight = 416\n[output]\nname = \"detections\"\ndecode = \"yolo_cxcywh_obj\"\n",
            onnx.display(),
            names.display()
        ),
    )
    .unwrap();
    let cfg = dir.path().join("cam.toml");
    std::fs::write(
        &cfg,
        format!(
            "[camera]\nid = \"c1\"\n[detector]\nmodel = \"{}\"\n",
            model.display()
        ),
    )
    .unwrap();
    let out = posbon(&[
        "analyze",
        "x.avi",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_clean_failure(&out, &["fake.onnx"]);
}

#[test]
fn loadtest_names_a_missing_or_malformed_accounts_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.txt");
    let out = posbon(&[
        "loadtest",
        "--accounts",
        missing.to_str().unwrap(),
        "--mahalla",
        "1",
    ]);
    assert_clean_failure(&out, &["cannot read the accounts file", "nope.txt"]);
    let bad = dir.path().join("accounts.txt");
    std::fs::write(&bad, "# users\nadmin s3cret\noperator\n").unwrap();
    let out = posbon(&[
        "loadtest",
        "--accounts",
        bad.to_str().unwrap(),
        "--mahalla",
        "1",
    ]);
    assert_clean_failure(&out, &["line 3", "USERNAME PASSWORD"]);
    let out = posbon(&[
        "loadtest",
        "--accounts",
        bad.to_str().unwrap(),
        "--mahalla",
        "1",
        "--seconds",
        "0",
    ]);
    assert_clean_failure(&out, &["--seconds must be in (0, 3600]"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("s3cret"),
        "a password reached the output: {err}"
    );
}
