//! File sources on the real footage, and every kind of bad input made from it.
mod common;

use common::{footage, mean, noise, read_all};
use media::{MediaError, OpenOptions, open};
use vision::clock::{FixedStart, Timestamp};

const START: Timestamp = Timestamp(1_700_000_000_000_000);

fn file_opts() -> OpenOptions {
    OpenOptions {
        clock: Box::new(FixedStart(START)),
        ..Default::default()
    }
}

fn open_file(p: &std::path::Path) -> Result<Box<dyn media::FrameSource>, MediaError> {
    open(p.to_str().expect("utf-8 path"), file_opts())
}

fn check_sequence(frames: &[vision::frame::Frame], fps: f64, w: u32, h: u32) {
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(f.index, i as u64, "frame indices run 0, 1, 2 ...");
        assert_eq!((f.width, f.height), (w, h), "frame {i} size");
        assert_eq!(
            f.data.len(),
            (w * h * 3) as usize,
            "frame {i} is packed RGB24"
        );
        assert!(
            (f.pts - i as f64 / fps).abs() < 0.5 / fps,
            "frame {i}: pts {} is not {} (1/{fps} s a frame)",
            f.pts,
            i as f64 / fps
        );
        assert_eq!(
            f.time,
            START.add_secs(f.pts),
            "frame {i}: time is FixedStart + pts"
        );
        if i > 0 {
            assert!(
                f.pts > frames[i - 1].pts,
                "pts must increase: frame {i} {} after {}",
                f.pts,
                frames[i - 1].pts
            );
        }
    }
}

#[test]
fn decodes_all_of_vtest_avi() {
    let path = footage("vtest.avi");
    let mut src = open_file(&path).expect("open vtest.avi");
    let info = src.info().clone();
    assert_eq!((info.width, info.height), (768, 576));
    assert_eq!(info.codec, "msmpeg4v3");
    assert_eq!(info.fps, Some(10.0));
    assert_eq!(info.frame_count, Some(795));
    assert!(!info.live);
    let (frames, err) = read_all(src.as_mut());
    assert!(err.is_none(), "vtest.avi should end cleanly: {err:?}");
    assert_eq!(frames.len(), 795);
    check_sequence(&frames, 10.0, 768, 576);
    let stats = src.stats();
    assert_eq!(stats.frames, 795);
    assert!(!stats.truncated);
    // Real pictures, not blank buffers: a daylight square, and people move between frames.
    let m = mean(&frames[0].data);
    assert!((40.0..220.0).contains(&m), "frame 0 mean {m}");
    let diff = frames[0]
        .data
        .iter()
        .zip(&frames[400].data)
        .filter(|(a, b)| a.abs_diff(**b) > 30)
        .count();
    assert!(diff > 1000, "frames 0 and 400 differ in only {diff} bytes");
    assert_eq!(
        src.next_item().unwrap().map(|_| ()),
        None,
        "an ended source stays ended"
    );
}

#[test]
fn decodes_all_of_bikes_mp4() {
    let path = footage("bikes.mp4");
    let mut src = open_file(&path).expect("open bikes.mp4");
    let info = src.info().clone();
    assert_eq!(
        (info.width, info.height, info.codec.as_str()),
        (640, 272, "h264")
    );
    assert_eq!(info.fps, Some(25.0));
    assert_eq!(info.frame_count, Some(250));
    let (frames, err) = read_all(src.as_mut());
    assert!(err.is_none(), "bikes.mp4 should end cleanly: {err:?}");
    assert_eq!(
        frames.len(),
        250,
        "bikes.mp4 has 250 frames (B-frames included, decoder drained)"
    );
    check_sequence(&frames, 25.0, 640, 272);
    assert_eq!(src.stats().decode_errors, 0);
}

#[test]
fn scales_while_converting() {
    let path = footage("bikes.mp4");
    let opts = OpenOptions {
        scale_to: Some((320, 136)),
        ..file_opts()
    };
    let mut src = open(path.to_str().unwrap(), opts).expect("open");
    assert_eq!((src.info().width, src.info().height), (320, 136));
    let (frames, err) = read_all(src.as_mut());
    assert!(err.is_none());
    assert_eq!(frames.len(), 250);
    assert!(
        frames
            .iter()
            .all(|f| (f.width, f.height, f.data.len()) == (320, 136, 320 * 136 * 3))
    );
    // The scaled picture has the full one's brightness.
    let full = {
        let mut s = open_file(&path).unwrap();
        match s.next_item().unwrap() {
            Some(media::SourceItem::Frame(f)) => f,
            other => panic!("{other:?}"),
        }
    };
    assert!((mean(&full.data) - mean(&frames[0].data)).abs() < 3.0);
}

#[test]
fn truncated_avi_keeps_the_frames_before_the_cut() {
    let bytes = std::fs::read(footage("vtest.avi")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("vtest-half.avi");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let mut src = open_file(&cut).expect("a truncated AVI still opens");
    let (frames, err) = read_all(src.as_mut());
    // Either a clean end or an error after the frames: both keep what was decoded.
    if let Some(e) = &err {
        assert!(matches!(e, MediaError::Read { .. }), "{e}");
    }
    assert!(
        (300..795).contains(&frames.len()),
        "decoded {} frames of the first half",
        frames.len()
    );
    check_sequence(&frames, 10.0, 768, 576);
    assert!(
        src.stats().truncated,
        "a file that ends early is reported as truncated"
    );
}

/// bikes.mp4 keeps its index (moov) at the end: cut in half it has no index and cannot be read.
#[test]
fn truncated_mp4_without_index_is_a_clear_error() {
    let bytes = std::fs::read(footage("bikes.mp4")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("bikes-half.mp4");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let err = open_file(&cut).err().expect("no index, no video");
    let msg = err.to_string();
    assert!(matches!(err, MediaError::NotAVideo { .. }), "{msg}");
    assert!(
        msg.contains("bikes-half.mp4 is not a video FFmpeg can read"),
        "{msg}"
    );
}

/// The same footage with its index first (as cameras and `-movflags +faststart` write it),
/// cut at 60 %: the frames before the cut decode.
#[test]
fn truncated_faststart_mp4_keeps_the_frames_before_the_cut() {
    let dir = tempfile::tempdir().unwrap();
    let fast = dir.path().join("bikes-fast.mp4");
    let status = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i"])
        .arg(footage("bikes.mp4"))
        .args(["-c", "copy", "-movflags", "+faststart"])
        .arg(&fast)
        .status()
        .expect("this test remuxes with the `ffmpeg` binary (Debian package ffmpeg); install it");
    assert!(status.success(), "ffmpeg remux failed");
    let bytes = std::fs::read(&fast).unwrap();
    assert_eq!(&bytes[4..8], b"ftyp");
    let cut = dir.path().join("bikes-fast-cut.mp4");
    std::fs::write(&cut, &bytes[..bytes.len() * 6 / 10]).unwrap();
    let mut src = open_file(&cut).expect("a cut faststart MP4 opens");
    let (frames, err) = read_all(src.as_mut());
    if let Some(e) = &err {
        assert!(matches!(e, MediaError::Read { .. }), "{e}");
    }
    assert!(
        (100..250).contains(&frames.len()),
        "decoded {} frames before the cut",
        frames.len()
    );
    check_sequence(&frames, 25.0, 640, 272);
    assert!(src.stats().truncated);
}

#[test]
fn corrupt_middle_is_skipped_not_fatal() {
    let mut bytes = std::fs::read(footage("vtest.avi")).unwrap();
    let mid = bytes.len() / 2;
    let junk = noise(200_000, 7);
    bytes[mid..mid + junk.len()].copy_from_slice(&junk);
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("vtest-corrupt.avi");
    std::fs::write(&bad, &bytes).unwrap();
    let mut src = open_file(&bad).expect("open");
    let (frames, err) = read_all(src.as_mut());
    assert!(
        err.is_none() || matches!(err, Some(MediaError::Read { .. })),
        "{err:?}"
    );
    assert!(
        frames.len() > 600,
        "only {} frames survived 200 kB of corruption",
        frames.len()
    );
    for w in frames.windows(2) {
        assert!(w[1].pts > w[0].pts && w[1].index == w[0].index + 1);
    }
}

#[test]
fn garbage_bytes_are_not_a_video() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("garbage.mp4");
    std::fs::write(&bad, noise(256 * 1024, 42)).unwrap();
    let err = open_file(&bad).err().expect("random bytes must not open");
    let msg = err.to_string();
    assert!(matches!(err, MediaError::NotAVideo { .. }), "{msg}");
    assert!(
        msg.contains("garbage.mp4 is not a video FFmpeg can read: "),
        "{msg}"
    );
    assert!(msg.contains("ffprobe"), "{msg}");
}

#[test]
fn empty_file_is_not_a_video() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.avi");
    std::fs::write(&empty, b"").unwrap();
    let msg = open_file(&empty).err().expect("empty").to_string();
    assert!(
        msg.contains("empty.avi is not a video FFmpeg can read: the file is empty"),
        "{msg}"
    );
}

#[test]
fn missing_file_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-video.avi");
    let err = open_file(&missing).err().expect("missing");
    assert!(matches!(err, MediaError::NotFound { .. }));
    assert!(
        err.to_string()
            .contains("no-such-video.avi does not exist; check the path"),
        "{err}"
    );
    let dir_err = open_file(dir.path())
        .err()
        .expect("a directory is not a video")
        .to_string();
    assert!(dir_err.contains("it is a directory"), "{dir_err}");
}

/// vtest.avi with its codec tag (div3) replaced by one no decoder knows.
#[test]
fn unknown_codec_names_it_and_suggests_transcoding() {
    let mut bytes = std::fs::read(footage("vtest.avi")).unwrap();
    let mut patched = 0;
    for i in 0..4096 {
        if bytes[i..i + 4].eq_ignore_ascii_case(b"div3") {
            bytes[i..i + 4].copy_from_slice(b"ZQ9X");
            patched += 1;
        }
    }
    assert_eq!(
        patched, 2,
        "vtest.avi declares its codec twice (strh, strf)"
    );
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("vtest-zq9x.avi");
    std::fs::write(&bad, &bytes).unwrap();
    let err = open_file(&bad).err().expect("unknown codec");
    let msg = err.to_string();
    assert!(matches!(err, MediaError::UnsupportedCodec { .. }), "{msg}");
    assert!(msg.contains("ZQ9X"), "the message names the codec: {msg}");
    assert!(msg.contains("ffmpeg -i IN -c:v libx264 OUT.mp4"), "{msg}");
}

#[test]
fn stop_flag_ends_a_source() {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let opts = OpenOptions {
        stop: Some(stop.clone()),
        ..file_opts()
    };
    let mut src = open(footage("bikes.mp4").to_str().unwrap(), opts).unwrap();
    for _ in 0..10 {
        assert!(matches!(
            src.next_item(),
            Ok(Some(media::SourceItem::Frame(_)))
        ));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(src.next_item().unwrap().is_none());
    assert_eq!(src.stats().frames, 10);
}

#[test]
fn jpeg_of_a_real_frame_round_trips() {
    let mut src = open_file(&footage("vtest.avi")).unwrap();
    let frame = match src.next_item().unwrap() {
        Some(media::SourceItem::Frame(f)) => f,
        other => panic!("{other:?}"),
    };
    let jpeg = media::jpeg::encode_rgb(frame.image(), 85).expect("encode");
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "JPEG SOI marker");
    assert!(
        jpeg.len() < frame.data.len() / 5,
        "JPEG of {} bytes is barely compressed",
        jpeg.len()
    );
    let mut dec = jpeg_decoder::Decoder::new(&jpeg[..]);
    let pixels = dec.decode().expect("decodes");
    let meta = dec.info().unwrap();
    assert_eq!((meta.width as u32, meta.height as u32), (768, 576));
    assert_eq!(pixels.len(), frame.data.len());
    let mad = pixels
        .iter()
        .zip(&frame.data)
        .map(|(a, b)| a.abs_diff(*b) as f64)
        .sum::<f64>()
        / pixels.len() as f64;
    assert!(mad < 6.0, "mean abs difference after JPEG q85 is {mad}");
    let low = media::jpeg::encode_rgb(frame.image(), 20).unwrap();
    assert!(low.len() < jpeg.len());
}

#[test]
fn jpeg_refuses_bad_images() {
    let data = vec![0u8; 10 * 10 * 3 - 1];
    let img = vision::frame::ImageRef {
        width: 10,
        height: 10,
        data: &data,
    };
    let msg = media::jpeg::encode_rgb(img, 85).err().unwrap().to_string();
    assert!(msg.contains("has 299 bytes, expected 300"), "{msg}");
    let ok = vec![0u8; 300];
    let img = vision::frame::ImageRef {
        width: 10,
        height: 10,
        data: &ok,
    };
    assert!(
        media::jpeg::encode_rgb(img, 0)
            .err()
            .unwrap()
            .to_string()
            .contains("quality 0")
    );
    let img = vision::frame::ImageRef {
        width: 0,
        height: 10,
        data: &[],
    };
    assert!(media::jpeg::encode_rgb(img, 85).is_err());
}

#[test]
fn unreachable_camera_is_a_clear_error() {
    // A loopback port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let uri = format!("rtsp://127.0.0.1:{port}/x");
    let t = std::time::Instant::now();
    let err = open(&uri, OpenOptions::default())
        .err()
        .expect("nothing listens there");
    assert!(t.elapsed().as_secs() < 10);
    assert_eq!(
        err.to_string(),
        format!(
            "could not connect to {uri}: Connection refused; check the address and that the camera is on"
        )
    );
}
