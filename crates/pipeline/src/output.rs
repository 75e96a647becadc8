//! `events.jsonl`: one event a line, written and flushed as each event happens.
use crate::PipelineError;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use vision::event::Event;

/// Appends events to `DIR/events.jsonl`. Each line is written with one `write_all` on an
/// unbuffered file, so a crash loses nothing already appended and never leaves half a line
/// behind a complete one. Appending (never truncating) keeps earlier runs' events.
pub struct EventLog {
    path: PathBuf,
    file: File,
    line: Vec<u8>,
}

impl EventLog {
    pub fn open(dir: &Path) -> Result<Self, PipelineError> {
        let io = |source| PipelineError::Output {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let path = dir.join("events.jsonl");
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|source| PipelineError::Output {
                path: path.clone(),
                source,
            })?;
        Ok(Self {
            path,
            file,
            line: Vec::with_capacity(512),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn append(&mut self, ev: &Event) -> Result<(), PipelineError> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, ev).expect("events serialise");
        self.line.push(b'\n');
        self.file
            .write_all(&self.line)
            .and_then(|_| self.file.sync_data())
            .map_err(|source| PipelineError::Output {
                path: self.path.clone(),
                source,
            })
    }
}
