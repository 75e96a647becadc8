//! Decode on a thread of its own, so decoding the next frames overlaps inference on this one.
use media::{FrameSource, MediaError, SourceInfo, SourceItem};
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::JoinHandle;

/// Wraps a source; at most `depth` decoded items wait in memory (each frame of a 768x576 video is
/// 1.3 MB). Items, errors and the end of the source arrive in the order the source produced them.
pub struct Prefetch {
    info: SourceInfo,
    rx: Receiver<Result<Option<SourceItem>, MediaError>>,
    done: bool,
    thread: Option<JoinHandle<()>>,
}

impl Prefetch {
    pub fn new(mut inner: Box<dyn FrameSource>, depth: usize) -> Self {
        let info = inner.info().clone();
        let (tx, rx) = sync_channel(depth.max(1));
        let thread = std::thread::Builder::new()
            .name("decode".into())
            .spawn(move || {
                loop {
                    let item = inner.next_item();
                    let last = !matches!(item, Ok(Some(_)));
                    if tx.send(item).is_err() || last {
                        break;
                    }
                }
            })
            .expect("spawning the decode thread");
        Self {
            info,
            rx,
            done: false,
            thread: Some(thread),
        }
    }
}

impl FrameSource for Prefetch {
    fn next_item(&mut self) -> Result<Option<SourceItem>, MediaError> {
        if self.done {
            return Ok(None);
        }
        match self.rx.recv() {
            Ok(Ok(Some(item))) => Ok(Some(item)),
            Ok(other) => {
                self.done = true;
                other
            }
            // The decode thread ended without saying why: it panicked.
            Err(_) => {
                self.done = true;
                Err(MediaError::InvalidOption(format!(
                    "the decode thread for {} stopped unexpectedly",
                    self.info.uri
                )))
            }
        }
    }

    fn info(&self) -> &SourceInfo {
        &self.info
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        // Dropping the receiver makes the thread's next send fail, so it ends after at most one
        // more item; a live source blocked in a read ends when its own timeout fires.
        if let Some(t) = self.thread.take() {
            drop(std::mem::replace(&mut self.rx, sync_channel(1).1));
            let _ = t.join();
        }
    }
}
