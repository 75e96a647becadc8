//! Frame sources: video files and RTSP cameras decoded by FFmpeg (through `ffmpeg-next`) into
//! RGB24 [`Frame`]s; cameras that drop are reconnected with exponential back-off, and the gap is
//! reported as [`SourceItem::Offline`] then [`SourceItem::Online`]. Also JPEG encoding for evidence.
//!
//! ```no_run
//! use media::{open, OpenOptions, SourceItem};
//! use vision::clock::{FixedStart, Timestamp};
//! let opts = OpenOptions { clock: Box::new(FixedStart(Timestamp(0))), ..Default::default() };
//! let mut src = open("vtest.avi", opts)?;
//! while let Some(item) = src.next_item()? {
//!     if let SourceItem::Frame(f) = item { let _ = (f.index, f.pts, f.image()); }
//! }
//! # Ok::<(), media::MediaError>(())
//! ```
//!
//! FFmpeg's own log output is silenced (library code does not print); set
//! `POSBON_FFMPEG_LOG=error|warning|info|debug` to see it on stderr while debugging.

mod error;
mod ffsource;
pub mod jpeg;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use error::MediaError;
use vision::clock::{Clock, Timestamp};
use vision::frame::Frame;

/// One thing a source yields, in order.
#[derive(Debug, Clone)]
pub enum SourceItem {
    Frame(Frame),
    /// A live source dropped (read error, EOF or no data within `io_timeout`); reconnecting.
    Offline {
        at: Timestamp,
        reason: String,
    },
    /// A live source is delivering frames again; the next item is its first frame.
    Online {
        at: Timestamp,
    },
}

/// A source of decoded frames. `next_item` blocks; `Ok(None)` means the source has ended (the end
/// of a file, or `OpenOptions::stop` was set).
pub trait FrameSource: Send {
    fn next_item(&mut self) -> Result<Option<SourceItem>, MediaError>;
    fn info(&self) -> &SourceInfo;
    /// Counters so far; `truncated` is set when a file ended before its declared frame count.
    fn stats(&self) -> SourceStats {
        SourceStats::default()
    }
}

/// What a source is. `width`/`height` are those of the frames it yields (after `scale_to`).
#[derive(Debug, Clone, PartialEq)]
pub struct SourceInfo {
    /// The URI or path, with any password replaced by `***`.
    pub uri: String,
    pub width: u32,
    pub height: u32,
    pub fps: Option<f64>,
    /// FFmpeg's codec name, e.g. `h264`, `msmpeg4v3`.
    pub codec: String,
    pub live: bool,
    /// Frames the container declares (files only; may be absent or approximate).
    pub frame_count: Option<u64>,
}

/// Counters of a source.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SourceStats {
    pub frames: u64,
    /// Packets the decoder rejected or frames that failed to decode (skipped).
    pub decode_errors: u64,
    /// Successful reconnections of a live source.
    pub reconnects: u64,
    /// A file ended before the frame count its container declares.
    pub truncated: bool,
}

/// Exponential back-off between reconnection attempts: `initial * factor^n`, capped at `max`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    pub factor: f64,
}

impl Default for Backoff {
    /// 1 s, 2 s, 4 s ... up to 30 s.
    fn default() -> Self {
        Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(30),
            factor: 2.0,
        }
    }
}

impl Backoff {
    /// The wait before reconnection attempt `attempt` (0-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = if self.factor.is_finite() && self.factor >= 1.0 {
            self.factor
        } else {
            1.0
        };
        let secs = self.initial.as_secs_f64() * factor.powi(attempt.min(64) as i32);
        let max = self.max.max(self.initial);
        if !secs.is_finite() || secs >= max.as_secs_f64() {
            max
        } else {
            Duration::from_secs_f64(secs)
        }
    }
}

/// How to open a source.
pub struct OpenOptions {
    /// Maps a frame's `pts` to its absolute `time`. Default: [`WallClock`] (right for cameras);
    /// pass `vision::clock::FixedStart` for files to get reproducible times.
    pub clock: Box<dyn Clock>,
    /// Back-off between reconnection attempts of a live source.
    pub rtsp_backoff: Backoff,
    /// Give up (return an error) after this many failed attempts in a row; `None` = never.
    pub max_reconnects: Option<u32>,
    /// Resize frames to this size (swscale, bilinear) while converting to RGB.
    pub scale_to: Option<(u32, u32)>,
    /// A live source that delivers nothing for this long is treated as dropped; connecting may
    /// take up to twice this. Default 5 s.
    pub io_timeout: Duration,
    /// Decoder threads; 1 (the default) suits many cameras on a machine.
    pub decode_threads: u32,
    /// Set to `true` from another thread to make a blocked `next_item` return `Ok(None)` soon.
    pub stop: Option<Arc<AtomicBool>>,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            clock: Box::new(WallClock::new()),
            rtsp_backoff: Backoff::default(),
            max_reconnects: None,
            scale_to: None,
            io_timeout: Duration::from_secs(5),
            decode_threads: 1,
            stop: None,
        }
    }
}

impl std::fmt::Debug for OpenOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenOptions")
            .field("rtsp_backoff", &self.rtsp_backoff)
            .field("max_reconnects", &self.max_reconnects)
            .field("scale_to", &self.scale_to)
            .field("io_timeout", &self.io_timeout)
            .field("decode_threads", &self.decode_threads)
            .finish_non_exhaustive()
    }
}

/// Wall-clock time: anchored at the first frame stamped (so, at connect), `time = anchor + pts`.
/// Sources keep a live stream's `pts` in step with elapsed wall time across reconnects.
#[derive(Debug, Clone, Copy, Default)]
pub struct WallClock {
    anchor: Option<Timestamp>,
}

impl WallClock {
    pub fn new() -> Self {
        WallClock { anchor: None }
    }
}

/// The current time as a [`Timestamp`].
pub fn now() -> Timestamp {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp(d.as_micros().min(i64::MAX as u128) as i64)
}

impl Clock for WallClock {
    fn stamp(&mut self, pts_secs: f64) -> Timestamp {
        let anchor = *self.anchor.get_or_insert_with(|| now().add_secs(-pts_secs));
        anchor.add_secs(pts_secs)
    }
}

/// Opens a video file (path or `file://`) or a live stream (`rtsp://`, `rtsps://`, `rtmp://`,
/// `udp://`, `srt://` ...). For a live stream the first connection must succeed; later drops are
/// reconnected.
pub fn open(uri: &str, opts: OpenOptions) -> Result<Box<dyn FrameSource>, MediaError> {
    if opts.decode_threads == 0 {
        return Err(MediaError::InvalidOption(
            "decode_threads must be at least 1".into(),
        ));
    }
    if let Some((w, h)) = opts.scale_to
        && (w == 0 || h == 0 || w > 16384 || h > 16384)
    {
        return Err(MediaError::InvalidOption(format!(
            "scale_to {w}x{h} is out of range; use 1..=16384 each"
        )));
    }
    if opts.io_timeout.is_zero() {
        return Err(MediaError::InvalidOption(
            "io_timeout must be more than zero".into(),
        ));
    }
    Ok(Box::new(ffsource::FfmpegSource::open(uri, opts)?))
}

/// `scheme://user:password@host/...` with the password replaced by `***` (for messages and logs).
pub fn redact_uri(uri: &str) -> String {
    let Some(scheme_end) = uri.find("://") else {
        return uri.to_string();
    };
    let rest = &uri[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let user = userinfo.split(':').next().unwrap_or("");
            let masked = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                user.to_string()
            };
            format!("{}{}{}", &uri[..scheme_end + 3], masked, &rest[at..])
        }
        None => uri.to_string(),
    }
}

/// Whether a URI names a live stream (reconnected when it drops) rather than a file.
pub fn is_live_uri(uri: &str) -> bool {
    let lower = uri.to_ascii_lowercase();
    [
        "rtsp://", "rtsps://", "rtmp://", "rtmps://", "udp://", "rtp://", "srt://", "tcp://",
    ]
    .iter()
    .any(|s| lower.starts_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        let b = Backoff {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(1),
            factor: 2.0,
        };
        assert_eq!(b.delay(0), Duration::from_millis(200));
        assert_eq!(b.delay(1), Duration::from_millis(400));
        assert_eq!(b.delay(2), Duration::from_millis(800));
        assert_eq!(b.delay(3), Duration::from_secs(1));
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(1));
        let d = Backoff::default();
        assert_eq!(
            (d.delay(0), d.delay(5), d.delay(6)),
            (
                Duration::from_secs(1),
                Duration::from_secs(30),
                Duration::from_secs(30)
            )
        );
    }

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(
            redact_uri("rtsp://admin:s3cret@10.0.0.5:554/h264"),
            "rtsp://admin:***@10.0.0.5:554/h264"
        );
        assert_eq!(
            redact_uri("rtsp://admin@10.0.0.5/x"),
            "rtsp://admin@10.0.0.5/x"
        );
        assert_eq!(redact_uri("rtsp://10.0.0.5/a@b"), "rtsp://10.0.0.5/a@b");
        assert_eq!(redact_uri("/tmp/a:b@c.mp4"), "/tmp/a:b@c.mp4");
    }

    #[test]
    fn live_uris() {
        assert!(is_live_uri("RTSP://cam/1"));
        assert!(!is_live_uri("/data/vtest.avi"));
        assert!(!is_live_uri("file:///data/vtest.avi"));
    }

    #[test]
    fn wall_clock_is_anchored_once() {
        let mut c = WallClock::new();
        let before = now();
        let t0 = c.stamp(0.0);
        let t1 = c.stamp(2.5);
        assert!(t0 >= before && t0.secs_since(before) < 1.0);
        assert_eq!(t1.0 - t0.0, 2_500_000);
    }

    #[test]
    fn bad_options_are_refused() {
        let e = open(
            "x.avi",
            OpenOptions {
                scale_to: Some((0, 10)),
                ..Default::default()
            },
        )
        .err()
        .unwrap();
        assert!(e.to_string().contains("scale_to 0x10"), "{e}");
    }
}
