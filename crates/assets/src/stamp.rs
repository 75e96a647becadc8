//! A small record of files already hashed (size + mtime + sha256), so a run that finds every
//! file in place does not rehash tens of megabytes, and of the recipe each derived file was made by.

use std::collections::BTreeMap;
use std::fs::Metadata;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use crate::error::AssetError;

pub(crate) const STAMP_FILE: &str = ".posbon-assets-stamps.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FileStamp {
    pub size: u64,
    pub mtime_ns: u64,
    pub sha256: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Stamps {
    #[serde(default)]
    pub files: BTreeMap<String, FileStamp>,
    /// Derived file -> hash of (script, inputs, arguments) it was made from.
    #[serde(default)]
    pub recipes: BTreeMap<String, String>,
    #[serde(skip)]
    dirty: bool,
}

pub(crate) fn mtime_ns(meta: &Metadata) -> u64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as u64)
}

impl Stamps {
    fn path(root: &Path) -> PathBuf {
        root.join(STAMP_FILE)
    }

    /// Load the stamps of `root`; a missing or unreadable stamp file only means rehashing.
    pub fn load(root: &Path) -> Stamps {
        match std::fs::read(Self::path(root)) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(
                    "ignoring unreadable {}: {e}; files will be rehashed",
                    Self::path(root).display()
                );
                Stamps::default()
            }),
            Err(_) => Stamps::default(),
        }
    }

    /// Is `meta` the file that was hashed to `sha256`?
    pub fn matches(&self, rel: &str, meta: &Metadata, sha256: &str) -> bool {
        self.files.get(rel).is_some_and(|s| {
            s.size == meta.len()
                && s.mtime_ns == mtime_ns(meta)
                && s.mtime_ns != 0
                && s.sha256 == sha256
        })
    }

    pub fn record(&mut self, rel: &str, meta: &Metadata, sha256: &str) {
        let stamp = FileStamp {
            size: meta.len(),
            mtime_ns: mtime_ns(meta),
            sha256: sha256.to_string(),
        };
        if self.files.get(rel) != Some(&stamp) {
            self.files.insert(rel.to_string(), stamp);
            self.dirty = true;
        }
    }

    pub fn forget(&mut self, rel: &str) {
        self.dirty |= self.files.remove(rel).is_some();
        self.dirty |= self.recipes.remove(rel).is_some();
    }

    pub fn set_recipe(&mut self, rel: &str, recipe: &str) {
        if self.recipes.get(rel).map(String::as_str) != Some(recipe) {
            self.recipes.insert(rel.to_string(), recipe.to_string());
            self.dirty = true;
        }
    }

    /// Write the stamps if they changed (atomically: temp file, then rename).
    pub fn save(&mut self, root: &Path) -> Result<(), AssetError> {
        if !self.dirty {
            return Ok(());
        }
        let path = Self::path(root);
        let tmp = root.join(format!("{STAMP_FILE}.{}.tmp", std::process::id()));
        let json = serde_json::to_vec_pretty(self).expect("stamps serialise");
        std::fs::write(&tmp, json).map_err(|e| AssetError::io("cannot write", &tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| AssetError::io("cannot replace", &path, e))?;
        self.dirty = false;
        Ok(())
    }
}
