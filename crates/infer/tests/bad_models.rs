//! Model files that do not match their description give errors naming the file, what was
//! expected, what was found and the fix.
#![cfg(feature = "ort")]
mod common;

use std::path::{Path, PathBuf};

use common::{asset, yolo_description};
use infer::{Backend, InferConfig, InferError, OnnxDetector};

fn cfg() -> InferConfig {
    InferConfig::default().with_backend(Backend::Ort)
}

/// Write a copy of the shipped description into `dir` with `edit` applied, pointing at `file`.
fn description(dir: &Path, file: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let text = std::fs::read_to_string(yolo_description()).unwrap();
    let text = text.replace(
        "{assets}/yolov4-tiny/yolov4-tiny-416.onnx",
        &file.display().to_string(),
    );
    let p = dir.join("model.toml");
    std::fs::write(&p, edit(text)).unwrap();
    p
}

/// A copy of the shipped detector with its input fixed at [N, 3, 416, 416] (written by the
/// `onnx` Python package, as the converter is), for the checks that need a fixed-size model.
fn fixed_size_copy(dir: &Path) -> PathBuf {
    let out = dir.join("fixed-416.onnx");
    let script = "import onnx, sys\n\
        m = onnx.load(sys.argv[1])\n\
        d = m.graph.input[0].type.tensor_type.shape.dim\n\
        d[2].dim_value = 416\n\
        d[3].dim_value = 416\n\
        onnx.save(m, sys.argv[2])\n";
    let st = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(asset("yolov4-tiny/yolov4-tiny-416.onnx"))
        .arg(&out)
        .status()
        .expect("python3 with the onnx package (pip install -r bench/requirements.txt)");
    assert!(
        st.success(),
        "could not write a fixed-size copy of the model"
    );
    out
}

fn load_err(desc: &Path) -> String {
    match OnnxDetector::load(desc, &cfg()) {
        Ok(_) => panic!("{} loaded, but it should have failed", desc.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_shipped_description_loads() {
    let det = OnnxDetector::load(&yolo_description(), &cfg()).unwrap();
    assert_eq!(det.model().spec.name, "yolov4-tiny-416");
    assert_eq!(det.model().file, asset("yolov4-tiny/yolov4-tiny-416.onnx"));
}

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let e = load_err(&description(
        dir.path(),
        &dir.path().join("nope.onnx"),
        |t| t,
    ));
    assert!(
        e.contains("nope.onnx") && e.contains("cannot open") && e.contains("posbon assets fetch"),
        "{e}"
    );
}

#[test]
fn not_an_onnx_file() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("fake.onnx");
    std::fs::copy(asset("yolov4-tiny/yolov4-tiny.cfg"), &fake).unwrap();
    let e = load_err(&description(dir.path(), &fake, |t| t));
    assert!(
        e.contains("fake.onnx") && e.contains("not an ONNX model") && e.contains("darknet2onnx"),
        "{e}"
    );
    // Darknet weights: binary, but not a protobuf ModelProto.
    let e = load_err(&description(
        dir.path(),
        &asset("yolov4-tiny/yolov4-tiny.weights"),
        |t| t,
    ));
    assert!(
        e.contains("yolov4-tiny.weights") && e.contains("not an ONNX model"),
        "{e}"
    );
}

#[test]
fn truncated_onnx_file() {
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.onnx");
    let bytes = std::fs::read(asset("yolov4-tiny/yolov4-tiny-416.onnx")).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let e = load_err(&description(dir.path(), &cut, |t| t));
    assert!(
        e.contains("cut.onnx") && e.contains("ONNX Runtime cannot load it"),
        "{e}"
    );
}

#[test]
fn wrong_input_name_size_and_batch() {
    let dir = tempfile::tempdir().unwrap();
    let onnx = asset("yolov4-tiny/yolov4-tiny-416.onnx");
    let e = load_err(&description(dir.path(), &onnx, |t| {
        t.replace("name = \"input\"", "name = \"images\"")
    }));
    assert!(
        e.contains("yolov4-tiny-416.onnx") && e.contains("model.toml"),
        "{e}"
    );
    assert!(
        e.contains("`images`")
            && e.contains("`input` [?, 3, ?, ?]")
            && e.contains("input.name = \"input\""),
        "{e}"
    );
    // The shipped export takes any size; a copy fixed at 416x416 must be described as such.
    let fixed = fixed_size_copy(dir.path());
    let e = load_err(&description(dir.path(), &fixed, |t| {
        t.replace("width = 416", "width = 640")
            .replace("size_multiple = 32", "")
    }));
    assert!(
        e.contains("[N, 3, 416, 640]") && e.contains("`input` [?, 3, 416, 416]"),
        "{e}"
    );
    let e = load_err(&description(dir.path(), &fixed, |t| t));
    assert!(
        e.contains("fixed size") && e.contains("remove input.size_multiple"),
        "{e}"
    );
    let ok = description(dir.path(), &fixed, |t| t.replace("size_multiple = 32", ""));
    assert!(OnnxDetector::load(&ok, &cfg()).is_ok());
    let e = load_err(&description(dir.path(), &onnx, |t| {
        t.replace("layout = \"NCHW\"", "layout = \"NHWC\"")
    }));
    assert!(e.contains("(NHWC)"), "{e}");
    // A fixed batch of 1 is fine on a dynamic-batch model.
    let d = description(dir.path(), &onnx, |t| {
        t.replace("batch = \"dynamic\"", "batch = 1")
    });
    assert!(OnnxDetector::load(&d, &cfg()).is_ok());
}

#[test]
fn wrong_output_name_and_class_count() {
    let dir = tempfile::tempdir().unwrap();
    let onnx = asset("yolov4-tiny/yolov4-tiny-416.onnx");
    let e = load_err(&description(dir.path(), &onnx, |t| {
        t.replace("name = \"detections\"", "name = \"output0\"")
    }));
    assert!(
        e.contains("`output0`") && e.contains("`detections` [?, ?, 85]"),
        "{e}"
    );
    let e = load_err(&description(dir.path(), &onnx, |t| {
        t.replace(
            "\"{assets}/yolov4-tiny/coco.names\"",
            "[\"person\", \"car\"]",
        )
    }));
    assert!(e.contains("[N, K, 7]") && e.contains("80 classes"), "{e}");
    let e = load_err(&description(dir.path(), &onnx, |t| {
        t.replace("yolo_cxcywh_obj", "yolo_cxcywh")
    }));
    assert!(e.contains("[N, K, 84]") && e.contains("81 classes"), "{e}");
}

#[test]
fn a_bad_description_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let onnx = asset("yolov4-tiny/yolov4-tiny-416.onnx");
    let d = description(dir.path(), &onnx, |t| {
        t.replace("resize = \"stretch\"", "resize = \"crop\"")
    });
    let e = load_err(&d);
    assert!(
        e.contains("model.toml:17:10") && e.contains("letterbox"),
        "{e}"
    );
    match OnnxDetector::load(&d, &cfg()) {
        Err(InferError::Description(_)) => {}
        other => panic!("expected a description error, got {other:?}"),
    }
}

#[test]
#[ignore = "prints the error messages for review"]
fn print_messages() {
    let dir = tempfile::tempdir().unwrap();
    let onnx = asset("yolov4-tiny/yolov4-tiny-416.onnx");
    let fake = dir.path().join("fake.onnx");
    std::fs::copy(asset("yolov4-tiny/yolov4-tiny.cfg"), &fake).unwrap();
    let d = dir.path();
    eprintln!(
        "{}\n",
        load_err(&description(d, &d.join("nope.onnx"), |t| t))
    );
    eprintln!("{}\n", load_err(&description(d, &fake, |t| t)));
    let edits: [(&str, &str); 5] = [
        ("name = \"input\"", "name = \"images\""),
        ("width = 416", "width = 640"),
        (
            "\"{assets}/yolov4-tiny/coco.names\"",
            "[\"person\", \"car\"]",
        ),
        ("resize = \"stretch\"", "resize = \"crop\""),
        ("nms_iou = 0.45", "nms_iou = 0.45\nnms = 1"),
    ];
    for (a, b) in edits {
        eprintln!(
            "{}\n",
            load_err(&description(d, &onnx, |t| t.replace(a, b)))
        );
    }
}
