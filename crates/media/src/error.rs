//! What can go wrong opening and reading a source, each message saying what to do about it.

/// Errors from opening or reading a frame source, or encoding evidence.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("video file {path} does not exist; check the path")]
    NotFound { path: String },

    #[error("cannot read video file {path}: {reason}; check the path and its permissions")]
    Unreadable { path: String, reason: String },

    #[error(
        "{path} is not a video FFmpeg can read: {reason}; check that it is a complete video file \
         (`ffprobe {path}` shows what FFmpeg sees)"
    )]
    NotAVideo { path: String, reason: String },

    #[error("{uri} has no video stream; give a file or camera URL that carries video")]
    NoVideoStream { uri: String },

    #[error(
        "{uri}: video codec {codec} is not supported by this FFmpeg build; transcode it with \
         `ffmpeg -i IN -c:v libx264 OUT.mp4` and open OUT.mp4"
    )]
    UnsupportedCodec { uri: String, codec: String },

    #[error(
        "{uri}: cannot open the {codec} decoder: {reason}; transcode with `ffmpeg -i IN -c:v libx264 OUT.mp4`"
    )]
    DecoderOpen {
        uri: String,
        codec: String,
        reason: String,
    },

    #[error("could not connect to {uri}: {reason}; check the address and that the camera is on")]
    Connect { uri: String, reason: String },

    #[error(
        "lost {uri} and gave up after {attempts} reconnect attempts over {secs:.1} s (last: {reason}); \
         check the camera and the network, or raise max_reconnects"
    )]
    ReconnectGaveUp {
        uri: String,
        attempts: u32,
        secs: f64,
        reason: String,
    },

    #[error(
        "{uri}: reading failed after {frames} frames: {reason}; the frames before it were delivered"
    )]
    Read {
        uri: String,
        frames: u64,
        reason: String,
    },

    #[error("{uri}: cannot convert decoded frame {frame} to RGB: {reason}")]
    Convert {
        uri: String,
        frame: u64,
        reason: String,
    },

    #[error("invalid media option: {0}")]
    InvalidOption(String),

    #[error("JPEG: {0}")]
    Jpeg(String),
}
