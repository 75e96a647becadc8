//! Wrappers around a camera's frame source: real-time pacing for files, a frame limit, and the
//! health observer that sees every item before the pipeline does.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use media::{FrameSource, MediaError, SourceInfo, SourceItem};

/// Hands out a file's frames no faster than their timestamps say, so a file plays like a live
/// camera (the demo's vtest.avi at its 10 frames/s). A pipeline slower than that is not held up.
pub struct Paced {
    inner: Box<dyn FrameSource>,
    start: Option<(Instant, f64)>,
    stop: Arc<AtomicBool>,
}

impl Paced {
    pub fn new(inner: Box<dyn FrameSource>, stop: Arc<AtomicBool>) -> Paced {
        Paced {
            inner,
            start: None,
            stop,
        }
    }
}

impl FrameSource for Paced {
    fn next_item(&mut self) -> Result<Option<SourceItem>, MediaError> {
        let item = self.inner.next_item()?;
        if let Some(SourceItem::Frame(f)) = &item {
            match self.start {
                None => self.start = Some((Instant::now(), f.pts)),
                Some((t0, p0)) => {
                    let due = t0 + Duration::from_secs_f64((f.pts - p0).max(0.0));
                    loop {
                        if self.stop.load(Ordering::Acquire) {
                            return Ok(None);
                        }
                        let left = due.saturating_duration_since(Instant::now());
                        if left.is_zero() {
                            break;
                        }
                        std::thread::sleep(left.min(Duration::from_millis(50)));
                    }
                }
            }
        }
        Ok(item)
    }

    fn info(&self) -> &SourceInfo {
        self.inner.info()
    }
}

/// Ends the source after `max` frames.
pub struct Limit {
    inner: Box<dyn FrameSource>,
    left: u64,
}

impl Limit {
    pub fn new(inner: Box<dyn FrameSource>, max: u64) -> Limit {
        Limit { inner, left: max }
    }
}

impl FrameSource for Limit {
    fn next_item(&mut self) -> Result<Option<SourceItem>, MediaError> {
        if self.left == 0 {
            return Ok(None);
        }
        let item = self.inner.next_item()?;
        if let Some(SourceItem::Frame(_)) = &item {
            self.left -= 1;
        }
        Ok(item)
    }

    fn info(&self) -> &SourceInfo {
        self.inner.info()
    }
}

/// What the observer reports.
pub enum Seen<'a> {
    Frame,
    Offline(&'a str),
}

/// Calls `on` with every frame and every drop before passing them on.
pub struct Observed<F: FnMut(Seen<'_>) + Send> {
    inner: Box<dyn FrameSource>,
    on: F,
}

impl<F: FnMut(Seen<'_>) + Send> Observed<F> {
    pub fn new(inner: Box<dyn FrameSource>, on: F) -> Self {
        Observed { inner, on }
    }
}

impl<F: FnMut(Seen<'_>) + Send> FrameSource for Observed<F> {
    fn next_item(&mut self) -> Result<Option<SourceItem>, MediaError> {
        let item = self.inner.next_item()?;
        match &item {
            Some(SourceItem::Frame(_)) => (self.on)(Seen::Frame),
            Some(SourceItem::Offline { reason, .. }) => (self.on)(Seen::Offline(reason)),
            // The outage ends with the first frame, which follows at once.
            Some(SourceItem::Online { .. }) | None => {}
        }
        Ok(item)
    }

    fn info(&self) -> &SourceInfo {
        self.inner.info()
    }
}
