//! The FFmpeg-backed [`FrameSource`]: demux, decode, convert to RGB24, reconnect live streams.
use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use ff::codec;
use ff::format::Pixel;
use ff::media::Type;
use ff::software::scaling;
use ff::util::error::{EACCES, EAGAIN, ECONNREFUSED, ENOENT, ETIMEDOUT};
use ffmpeg_next as ff;
use tracing::{debug, info, warn};
use vision::clock::{Clock, Timestamp};
use vision::frame::Frame;

use crate::{
    Backoff, FrameSource, MediaError, OpenOptions, SourceInfo, SourceItem, SourceStats,
    is_live_uri, redact_uri,
};

static INIT: Once = Once::new();

fn init_ffmpeg() {
    INIT.call_once(|| {
        let _ = ff::init();
        ff::format::network::init();
        let level = match std::env::var("POSBON_FFMPEG_LOG").as_deref() {
            Ok("error") => ff::util::log::Level::Error,
            Ok("warning") => ff::util::log::Level::Warning,
            Ok("info") => ff::util::log::Level::Info,
            Ok("debug") => ff::util::log::Level::Debug,
            _ => ff::util::log::Level::Quiet,
        };
        ff::util::log::set_level(level);
    });
}

/// A deadline the FFmpeg interrupt callback enforces, plus the caller's stop flag.
#[derive(Clone)]
struct Watchdog {
    base: Instant,
    /// Microseconds after `base`; 0 = no deadline.
    deadline_us: Arc<AtomicI64>,
    stop: Option<Arc<AtomicBool>>,
}

impl Watchdog {
    fn new(stop: Option<Arc<AtomicBool>>) -> Self {
        Watchdog {
            base: Instant::now(),
            deadline_us: Arc::new(AtomicI64::new(0)),
            stop,
        }
    }
    fn arm(&self, within: Duration) {
        let us = (self.base.elapsed() + within)
            .as_micros()
            .min(i64::MAX as u128) as i64;
        self.deadline_us.store(us.max(1), Ordering::Relaxed);
    }
    fn disarm(&self) {
        self.deadline_us.store(0, Ordering::Relaxed);
    }
    fn stopped(&self) -> bool {
        self.stop
            .as_ref()
            .is_some_and(|s| s.load(Ordering::Relaxed))
    }
    fn expired(&self) -> bool {
        let d = self.deadline_us.load(Ordering::Relaxed);
        d > 0 && self.base.elapsed().as_micros() as i64 > d
    }
    fn should_interrupt(&self) -> bool {
        self.stopped() || self.expired()
    }
}

/// swscale context. SAFETY: an `SwsContext` has no thread affinity; it is only ever used through
/// `&mut`, by one thread at a time, so moving it between threads is sound.
struct Scaler(scaling::Context);
unsafe impl Send for Scaler {}

/// How a connection's packet stream ended (reported after the decoder is drained).
enum End {
    Eof,
    Error(ff::Error),
}

/// One open input (a file, or one connection to a camera) and its decoder.
struct Connection {
    input: ff::format::context::Input,
    stream_index: usize,
    decoder: codec::decoder::Video,
    time_base: f64,
    start_ts: Option<i64>,
    decoded: ff::frame::Video,
    sent_eof: bool,
    end: Option<End>,
    watchdog: Watchdog,
    /// Read deadline for live streams.
    read_timeout: Option<Duration>,
    /// Frames decoded on this connection, and the source pts of its first frame.
    frames: u64,
    pts_offset: f64,
    consecutive_bad_packets: u32,
}

struct Probe {
    width: u32,
    height: u32,
    fps: Option<f64>,
    codec: String,
    frame_count: Option<u64>,
}

fn rational(r: ff::Rational) -> Option<f64> {
    (r.numerator() > 0 && r.denominator() > 0)
        .then(|| r.numerator() as f64 / r.denominator() as f64)
}

fn fourcc(tag: u32) -> String {
    let bytes = tag.to_le_bytes();
    if tag != 0 && bytes.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        String::from_utf8_lossy(&bytes).trim().to_string()
    } else {
        format!("0x{tag:08x}")
    }
}

fn describe_ff_error(e: &ff::Error) -> String {
    match e {
        ff::Error::Exit => "no answer in time (timed out)".to_string(),
        ff::Error::Other { errno } if *errno == ETIMEDOUT => {
            "no answer in time (timed out)".to_string()
        }
        other => other.to_string(),
    }
}

impl Connection {
    fn open(
        uri: &str,
        shown: &str,
        live: bool,
        opts: &OpenOptions,
        watchdog: Watchdog,
    ) -> Result<(Self, Probe), MediaError> {
        let mut dict = ff::Dictionary::new();
        let io_us = opts.io_timeout.as_micros().to_string();
        let lower = uri.to_ascii_lowercase();
        if lower.starts_with("rtsp://") || lower.starts_with("rtsps://") {
            // FFmpeg >= 5: `timeout` is the RTSP socket I/O timeout in microseconds (`stimeout` is gone).
            dict.set("rtsp_transport", "tcp");
            dict.set("timeout", &io_us);
        } else if live {
            dict.set("rw_timeout", &io_us);
        }
        if live {
            watchdog.arm(opts.io_timeout * 2);
        } else {
            watchdog.disarm();
        }
        let wd = watchdog.clone();
        let opened = ff::format::input_with_interrupt_and_dictionary(
            &uri,
            move || wd.should_interrupt(),
            dict,
        );
        watchdog.disarm();
        let input = match opened {
            Ok(i) => i,
            Err(e) => return Err(open_error(shown, live, &e, opts)),
        };

        let Some(stream) = input.streams().best(Type::Video) else {
            return Err(MediaError::NoVideoStream {
                uri: shown.to_string(),
            });
        };
        let stream_index = stream.index();
        let tb = stream.time_base();
        let time_base = rational(tb).unwrap_or(1.0 / 90_000.0);
        let start_ts =
            (stream.start_time() != ff::ffi::AV_NOPTS_VALUE).then(|| stream.start_time());
        let fps = rational(stream.avg_frame_rate())
            .or_else(|| rational(stream.rate()))
            .filter(|f| *f > 0.0 && *f < 1000.0);
        let frame_count = (!live && stream.frames() > 0).then(|| stream.frames() as u64);
        let params = stream.parameters();
        let id = params.id();
        // SAFETY: `params` wraps the stream's valid AVCodecParameters, alive as long as `input`.
        let tag = unsafe { (*params.as_ptr()).codec_tag };
        let codec_name = if id == codec::Id::None {
            format!("'{}' (unknown to FFmpeg)", fourcc(tag))
        } else {
            id.name().to_string()
        };
        if id == codec::Id::None || codec::decoder::find(id).is_none() {
            return Err(MediaError::UnsupportedCodec {
                uri: shown.to_string(),
                codec: codec_name,
            });
        }
        let decoder_err = |e: ff::Error| MediaError::DecoderOpen {
            uri: shown.to_string(),
            codec: codec_name.clone(),
            reason: e.to_string(),
        };
        let mut ctx = codec::Context::from_parameters(params).map_err(decoder_err)?;
        if opts.decode_threads > 1 {
            ctx.set_threading(codec::threading::Config {
                kind: codec::threading::Type::Frame,
                count: opts.decode_threads as usize,
                ..Default::default()
            });
        }
        let mut dec = ctx.decoder();
        dec.set_packet_time_base(tb);
        let decoder = dec.video().map_err(decoder_err)?;
        let (width, height) = opts.scale_to.unwrap_or((decoder.width(), decoder.height()));
        if width == 0 || height == 0 {
            return Err(MediaError::NotAVideo {
                path: shown.to_string(),
                reason: "the video stream declares no picture size".to_string(),
            });
        }
        let probe = Probe {
            width,
            height,
            fps,
            codec: id.name().to_string(),
            frame_count,
        };
        let conn = Connection {
            input,
            stream_index,
            decoder,
            time_base,
            start_ts,
            decoded: ff::frame::Video::empty(),
            sent_eof: false,
            end: None,
            watchdog,
            read_timeout: live.then_some(opts.io_timeout),
            frames: 0,
            pts_offset: 0.0,
            consecutive_bad_packets: 0,
        };
        Ok((conn, probe))
    }

    /// Decodes the next frame into `self.decoded`. `Ok(false)`: the packet stream ended and the
    /// decoder is drained; `self.end` says how it ended. Decode errors are counted and skipped.
    fn decode_next(&mut self, decode_errors: &mut u64, shown: &str) -> bool {
        loop {
            match self.decoder.receive_frame(&mut self.decoded) {
                Ok(()) => {
                    self.frames += 1;
                    return true;
                }
                Err(ff::Error::Eof) => return false,
                Err(ff::Error::Other { errno }) if errno == EAGAIN => {}
                Err(e) => {
                    *decode_errors += 1;
                    if *decode_errors <= 5 {
                        warn!(source = shown, error = %e, "a frame failed to decode; skipped");
                    }
                    if self.sent_eof {
                        continue;
                    }
                }
            }
            if self.sent_eof {
                // Drained everything the decoder would give.
                return false;
            }
            let mut packet = ff::Packet::empty();
            if let Some(t) = self.read_timeout {
                self.watchdog.arm(t);
            }
            let read = packet.read(&mut self.input);
            self.watchdog.disarm();
            match read {
                Ok(()) => {
                    self.consecutive_bad_packets = 0;
                    if packet.stream() != self.stream_index {
                        continue;
                    }
                    match self.decoder.send_packet(&packet) {
                        Ok(()) => {}
                        Err(ff::Error::Other { errno }) if errno == EAGAIN => {
                            // Cannot happen after receive_frame returned EAGAIN; keep going.
                        }
                        Err(e) => {
                            *decode_errors += 1;
                            if *decode_errors <= 5 {
                                warn!(source = shown, error = %e, "the decoder rejected a packet; skipped");
                            }
                        }
                    }
                }
                Err(ff::Error::InvalidData) if self.consecutive_bad_packets < 1000 => {
                    // The demuxer can resync past a corrupt packet.
                    self.consecutive_bad_packets += 1;
                    *decode_errors += 1;
                }
                Err(e) => {
                    self.end = Some(if e == ff::Error::Eof {
                        End::Eof
                    } else {
                        End::Error(e)
                    });
                    let _ = self.decoder.send_eof();
                    self.sent_eof = true;
                }
            }
        }
    }

    /// The decoded frame's time in seconds from this connection's stream start, if it has one.
    fn stream_secs(&mut self) -> Option<f64> {
        let ts = self.decoded.timestamp().or_else(|| self.decoded.pts())?;
        let start = *self.start_ts.get_or_insert(ts);
        Some((ts - start) as f64 * self.time_base)
    }
}

fn open_error(shown: &str, live: bool, e: &ff::Error, opts: &OpenOptions) -> MediaError {
    if live {
        let reason = match e {
            ff::Error::Exit => format!(
                "no answer within {:.1} s",
                (opts.io_timeout * 2).as_secs_f64()
            ),
            other => describe_ff_error(other),
        };
        return MediaError::Connect {
            uri: shown.to_string(),
            reason,
        };
    }
    match e {
        ff::Error::Other { errno } if *errno == ENOENT => MediaError::NotFound {
            path: shown.to_string(),
        },
        ff::Error::Other { errno } if *errno == EACCES => MediaError::Unreadable {
            path: shown.to_string(),
            reason: e.to_string(),
        },
        ff::Error::Other { errno } if *errno == ECONNREFUSED => MediaError::Connect {
            uri: shown.to_string(),
            reason: e.to_string(),
        },
        other => MediaError::NotAVideo {
            path: shown.to_string(),
            reason: describe_ff_error(other),
        },
    }
}

enum State {
    Streaming,
    Reconnecting {
        attempt: u32,
        since: Instant,
        reason: String,
    },
    Ended,
}

pub(crate) struct FfmpegSource {
    uri: String,
    info: SourceInfo,
    clock: Box<dyn Clock>,
    backoff: Backoff,
    max_reconnects: Option<u32>,
    opts: OpenOptions,
    watchdog: Watchdog,
    conn: Option<Connection>,
    state: State,
    pending: VecDeque<SourceItem>,
    online_pending: bool,
    next_index: u64,
    last_pts: Option<f64>,
    /// When the source's first frame arrived (live pts are kept in step with it).
    anchor: Option<Instant>,
    scaler: Option<Scaler>,
    rgb: ff::frame::Video,
    stats: SourceStats,
}

impl FfmpegSource {
    pub(crate) fn open(uri: &str, mut opts: OpenOptions) -> Result<Self, MediaError> {
        init_ffmpeg();
        let live = is_live_uri(uri);
        let shown = redact_uri(uri);
        let target = if live {
            uri.to_string()
        } else {
            uri.strip_prefix("file://").unwrap_or(uri).to_string()
        };
        if !live && !target.contains("://") {
            let p = Path::new(&target);
            match std::fs::metadata(p) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(MediaError::NotFound { path: shown });
                }
                Err(e) => {
                    return Err(MediaError::Unreadable {
                        path: shown,
                        reason: e.to_string(),
                    });
                }
                Ok(m) if m.is_dir() => {
                    return Err(MediaError::Unreadable {
                        path: shown,
                        reason: "it is a directory".into(),
                    });
                }
                Ok(m) if m.len() == 0 => {
                    return Err(MediaError::NotAVideo {
                        path: shown,
                        reason: "the file is empty".into(),
                    });
                }
                Ok(_) => {}
            }
        }
        let watchdog = Watchdog::new(opts.stop.take());
        let (conn, probe) = Connection::open(&target, &shown, live, &opts, watchdog.clone())?;
        info!(source = %shown, codec = %probe.codec, width = probe.width, height = probe.height, fps = ?probe.fps, "opened");
        let info = SourceInfo {
            uri: shown,
            width: probe.width,
            height: probe.height,
            fps: probe.fps,
            codec: probe.codec,
            live,
            frame_count: probe.frame_count,
        };
        let clock = std::mem::replace(&mut opts.clock, Box::new(crate::WallClock::new()));
        Ok(FfmpegSource {
            uri: target,
            info,
            clock,
            backoff: opts.rtsp_backoff,
            max_reconnects: opts.max_reconnects,
            opts,
            watchdog,
            conn: Some(conn),
            state: State::Streaming,
            pending: VecDeque::new(),
            online_pending: false,
            next_index: 0,
            last_pts: None,
            anchor: None,
            scaler: None,
            rgb: ff::frame::Video::empty(),
            stats: SourceStats::default(),
        })
    }

    fn frame_step(&self) -> f64 {
        1.0 / self.info.fps.unwrap_or(25.0)
    }

    /// The source pts of the frame just decoded on `conn`: from the stream time base, kept
    /// increasing; live streams are also kept in step with elapsed wall time across reconnects.
    fn next_pts(&mut self) -> f64 {
        let step = self.frame_step();
        let live = self.info.live;
        let elapsed = self
            .anchor
            .get_or_insert_with(Instant::now)
            .elapsed()
            .as_secs_f64();
        let last = self.last_pts;
        let conn = self.conn.as_mut().expect("streaming without a connection");
        let first_of_conn = conn.frames == 1;
        let secs = conn.stream_secs();
        if first_of_conn {
            conn.pts_offset = match last {
                Some(l) if live => elapsed.max(l + step),
                Some(l) => l + step,
                None => 0.0,
            } - secs.unwrap_or(0.0);
        }
        let mut pts = match secs {
            Some(s) => conn.pts_offset + s,
            None => last.map_or(0.0, |l| l + step),
        };
        let behind = last.is_some_and(|l| pts <= l);
        let adrift = live && (pts - elapsed).abs() > 10.0;
        if behind || adrift {
            // Timestamps jumped (a camera clock reset, a looping server, a wrap): re-anchor.
            let resumed = match last {
                Some(l) if live => elapsed.max(l + step),
                Some(l) => l + step,
                None => 0.0,
            };
            debug!(source = %self.info.uri, from = pts, to = resumed, "timestamps jumped; re-anchored");
            conn.pts_offset += resumed - pts;
            pts = resumed;
        }
        self.last_pts = Some(pts);
        pts
    }

    fn convert(&mut self) -> Result<Frame, MediaError> {
        let index = self.next_index;
        let conv_err = |reason: String| MediaError::Convert {
            uri: self.info.uri.clone(),
            frame: index,
            reason,
        };
        let conn = self.conn.as_ref().expect("streaming without a connection");
        let src = &conn.decoded;
        let (sw, sh, sf) = (src.width(), src.height(), src.format());
        if sw == 0 || sh == 0 || sf == Pixel::None {
            return Err(conv_err(format!(
                "the decoder produced an empty picture ({sw}x{sh}, {sf:?})"
            )));
        }
        let (dw, dh) = self.opts.scale_to.unwrap_or((sw, sh));
        let rebuild = match &self.scaler {
            Some(s) => {
                let i = s.0.input();
                i.format != sf
                    || i.width != sw
                    || i.height != sh
                    || s.0.output().width != dw
                    || s.0.output().height != dh
            }
            None => true,
        };
        if rebuild {
            let flags = if (dw, dh) == (sw, sh) {
                scaling::Flags::POINT
            } else {
                scaling::Flags::BILINEAR
            };
            let ctx =
                scaling::Context::get(sf, sw, sh, Pixel::RGB24, dw, dh, flags).map_err(|e| {
                    conv_err(format!(
                        "swscale cannot convert {sf:?} {sw}x{sh} to RGB24 {dw}x{dh}: {e}"
                    ))
                })?;
            self.scaler = Some(Scaler(ctx));
            self.rgb = ff::frame::Video::empty();
        }
        let scaler = self.scaler.as_mut().expect("scaler just built");
        scaler
            .0
            .run(src, &mut self.rgb)
            .map_err(|e| conv_err(format!("swscale failed: {e}")))?;
        let stride = self.rgb.stride(0);
        let plane = self.rgb.data(0);
        let row = dw as usize * 3;
        let mut data = Vec::with_capacity(row * dh as usize);
        for y in 0..dh as usize {
            data.extend_from_slice(&plane[y * stride..y * stride + row]);
        }
        let pts = self.next_pts();
        let time = self.clock.stamp(pts);
        self.next_index += 1;
        self.stats.frames += 1;
        Ok(Frame {
            index,
            pts,
            time,
            width: dw,
            height: dh,
            data,
        })
    }

    /// Wall-based source time now (for Offline/Online stamps).
    fn now_stamp(&mut self) -> Timestamp {
        let secs = match (self.anchor, self.last_pts) {
            (Some(a), Some(l)) => a.elapsed().as_secs_f64().max(l),
            (_, Some(l)) => l,
            _ => 0.0,
        };
        self.clock.stamp(secs)
    }

    fn lost(&mut self, reason: String) -> SourceItem {
        warn!(source = %self.info.uri, %reason, "camera dropped; reconnecting");
        self.conn = None;
        self.online_pending = false;
        self.state = State::Reconnecting {
            attempt: 0,
            since: Instant::now(),
            reason: reason.clone(),
        };
        SourceItem::Offline {
            at: self.now_stamp(),
            reason,
        }
    }

    /// Sleeps `d` in small slices; `false` if asked to stop meanwhile.
    fn sleep(&self, d: Duration) -> bool {
        let until = Instant::now() + d;
        loop {
            if self.watchdog.stopped() {
                return false;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            std::thread::sleep(left.min(Duration::from_millis(50)));
        }
    }

    fn step(&mut self) -> Result<Option<SourceItem>, MediaError> {
        loop {
            if self.watchdog.stopped() {
                self.state = State::Ended;
                self.conn = None;
            }
            match &self.state {
                State::Ended => return Ok(None),
                State::Streaming => {
                    let conn = self.conn.as_mut().expect("streaming without a connection");
                    if conn.decode_next(&mut self.stats.decode_errors, &self.info.uri) {
                        let frame = self.convert()?;
                        if self.online_pending {
                            self.online_pending = false;
                            self.stats.reconnects += 1;
                            let at = frame.time;
                            self.pending.push_back(SourceItem::Frame(frame));
                            return Ok(Some(SourceItem::Online { at }));
                        }
                        return Ok(Some(SourceItem::Frame(frame)));
                    }
                    let end = conn.end.take();
                    if self.watchdog.stopped() {
                        continue;
                    }
                    if self.info.live {
                        let reason = match end {
                            Some(End::Error(e)) => describe_ff_error(&e),
                            _ => "the stream ended".to_string(),
                        };
                        return Ok(Some(self.lost(reason)));
                    }
                    self.state = State::Ended;
                    self.conn = None;
                    if let Some(n) = self.info.frame_count
                        && self.stats.frames < n
                    {
                        self.stats.truncated = true;
                        warn!(
                            source = %self.info.uri,
                            frames = self.stats.frames,
                            declared = n,
                            "the file ended after {} of its {} frames; it looks truncated",
                            self.stats.frames,
                            n
                        );
                    }
                    if self.stats.decode_errors > 0 {
                        warn!(source = %self.info.uri, errors = self.stats.decode_errors, "packets or frames that failed to decode were skipped");
                    }
                    return match end {
                        Some(End::Error(e)) => Err(MediaError::Read {
                            uri: self.info.uri.clone(),
                            frames: self.stats.frames,
                            reason: describe_ff_error(&e),
                        }),
                        _ => Ok(None),
                    };
                }
                State::Reconnecting {
                    attempt,
                    since,
                    reason,
                } => {
                    let (attempt, since, reason) = (*attempt, *since, reason.clone());
                    if let Some(max) = self.max_reconnects
                        && attempt >= max
                    {
                        self.state = State::Ended;
                        return Err(MediaError::ReconnectGaveUp {
                            uri: self.info.uri.clone(),
                            attempts: attempt,
                            secs: since.elapsed().as_secs_f64(),
                            reason,
                        });
                    }
                    if !self.sleep(self.backoff.delay(attempt)) {
                        continue;
                    }
                    match Connection::open(
                        &self.uri,
                        &self.info.uri,
                        true,
                        &self.opts,
                        self.watchdog.clone(),
                    ) {
                        Ok((conn, probe)) => {
                            info!(source = %self.info.uri, attempt, "reconnected");
                            if self.opts.scale_to.is_none()
                                && (probe.width, probe.height)
                                    != (self.info.width, self.info.height)
                            {
                                warn!(source = %self.info.uri, width = probe.width, height = probe.height, "the camera's picture size changed");
                                self.info.width = probe.width;
                                self.info.height = probe.height;
                            }
                            self.conn = Some(conn);
                            self.online_pending = true;
                            self.state = State::Streaming;
                        }
                        Err(e) => {
                            debug!(source = %self.info.uri, attempt, error = %e, "reconnect failed");
                            let reason = match e {
                                MediaError::Connect { reason, .. } => reason,
                                other => other.to_string(),
                            };
                            self.state = State::Reconnecting {
                                attempt: attempt + 1,
                                since,
                                reason,
                            };
                        }
                    }
                }
            }
        }
    }
}

impl FrameSource for FfmpegSource {
    fn next_item(&mut self) -> Result<Option<SourceItem>, MediaError> {
        if let Some(item) = self.pending.pop_front() {
            return Ok(Some(item));
        }
        self.step()
    }

    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn stats(&self) -> SourceStats {
        self.stats
    }
}
