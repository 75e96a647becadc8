//! A real picture with small faces: a still of vtest.avi written as a JPEG by FFmpeg, as a phone
//! or a camera's snapshot would be. Shared with crates/cli/tests/photo_attachments.rs.
use std::process::Command;

/// Frame 200 of vtest.avi (people walking; faces of about 10 px) as a JPEG.
pub fn vtest_still() -> Vec<u8> {
    let src = assets::require("footage/vtest.avi").unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-i"])
        .arg(&src)
        .args([
            "-vf",
            "select=eq(n\\,200)",
            "-vframes",
            "1",
            "-f",
            "image2pipe",
            "-c:v",
            "mjpeg",
            "-q:v",
            "2",
            "-",
        ])
        .output()
        .expect("cannot run `ffmpeg`: install Debian's ffmpeg package (apt-get install ffmpeg)");
    assert!(
        out.status.success(),
        "ffmpeg: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
