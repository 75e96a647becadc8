//! Unredacted originals, sealed: written only when a camera's config names a key, and then only
//! encrypted, so a stolen disk or a copied evidence folder shows nothing but redacted images.
//!
//! A sealed file is `MAGIC || key id (8 bytes) || nonce (24) || XChaCha20-Poly1305(JPEG)`, with
//! `MAGIC || key id || file name` as associated data: a file renamed to pass for another frame,
//! a truncated or altered file, or the wrong key all fail to open, with a message saying which.
//! The key id (the first 8 bytes of the key's SHA-256) tells which key a file needs without
//! revealing the key. Opening an original is for the access procedure of the operations
//! platform: the server opens one only for an approved, unexpired access request that names a
//! case (docs/design/012-citizen-reports-and-evidence-access.md); `posbon evidence open` is the
//! offline tool.
//!
//! A crate of its own, with no I/O beyond reading and writing key files, so that the pipeline
//! (which seals) and the server (which opens) share it without depending on each other.
#![forbid(unsafe_code)]
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 16] = b"POSBON-SEALED-1\n";
const KEY_ID: usize = 8;
const NONCE: usize = 24;
const HEADER: usize = MAGIC.len() + KEY_ID + NONCE;

/// A 32-byte key, read from a file of 64 hexadecimal digits.
#[derive(Clone)]
pub struct SealKey {
    key: [u8; 32],
    id: [u8; KEY_ID],
}

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key itself.
        write!(f, "SealKey({})", self.id_hex())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("key file {path}: {problem}; make one with `posbon evidence keygen --out {path}`")]
    KeyFile { path: PathBuf, problem: String },
    #[error("{0} is not a sealed posbon original (no POSBON-SEALED-1 header)")]
    NotSealed(String),
    #[error("{name} was sealed with key {want}, not with this key ({have})")]
    WrongKey {
        name: String,
        want: String,
        have: String,
    },
    #[error(
        "{0} does not open: it was altered, truncated or renamed after it was sealed (the name is part of the seal)"
    )]
    Tampered(String),
    #[error("no randomness for a nonce: {0}")]
    Random(String),
}

impl SealKey {
    pub fn from_bytes(key: [u8; 32]) -> Self {
        let d = Sha256::digest(key);
        let mut id = [0u8; KEY_ID];
        id.copy_from_slice(&d[..KEY_ID]);
        Self { key, id }
    }

    /// A new random key.
    pub fn generate() -> Result<Self, SealError> {
        let mut k = [0u8; 32];
        getrandom::getrandom(&mut k).map_err(|e| SealError::Random(e.to_string()))?;
        Ok(Self::from_bytes(k))
    }

    /// Read a key file: 64 hex digits, surrounding whitespace ignored.
    pub fn load(path: &Path) -> Result<Self, SealError> {
        let bad = |problem: String| SealError::KeyFile {
            path: path.to_path_buf(),
            problem,
        };
        let text =
            std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read it ({e})")))?;
        let hex_text = text.trim();
        if hex_text.len() != 64 {
            return Err(bad(format!(
                "holds {} characters; a key is 64 hexadecimal digits (32 bytes)",
                hex_text.len()
            )));
        }
        let bytes = hex::decode(hex_text).map_err(|e| bad(format!("is not hexadecimal ({e})")))?;
        let mut k = [0u8; 32];
        k.copy_from_slice(&bytes);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if let Ok(m) = std::fs::metadata(path)
                && m.permissions().mode() & 0o077 != 0
            {
                tracing::warn!(path = %path.display(), "the key file can be read by other users: chmod 600 it");
            }
        }
        Ok(Self::from_bytes(k))
    }

    /// Write the key as 64 hex digits to a new file readable only by its owner.
    pub fn save(&self, path: &Path) -> Result<(), SealError> {
        let bad = |problem: String| SealError::KeyFile {
            path: path.to_path_buf(),
            problem,
        };
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        use std::io::Write;
        let mut f = opts.open(path).map_err(|e| {
            bad(format!(
                "cannot create it ({e}); an existing key is never overwritten"
            ))
        })?;
        writeln!(f, "{}", hex::encode(self.key)).map_err(|e| bad(e.to_string()))?;
        f.sync_all().map_err(|e| bad(e.to_string()))
    }

    /// Which key this is, safe to log: the first 8 bytes of its SHA-256, in hex.
    pub fn id_hex(&self) -> String {
        hex::encode(self.id)
    }

    fn aad(&self, name: &str) -> Vec<u8> {
        let mut a = Vec::with_capacity(MAGIC.len() + KEY_ID + name.len());
        a.extend_from_slice(MAGIC);
        a.extend_from_slice(&self.id);
        a.extend_from_slice(name.as_bytes());
        a
    }

    /// Seal `plain` as the file called `name` (its base name binds the seal).
    pub fn seal(&self, name: &str, plain: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE];
        getrandom::getrandom(&mut nonce).map_err(|e| SealError::Random(e.to_string()))?;
        let cipher = XChaCha20Poly1305::new((&self.key).into());
        let ct = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: &self.aad(name),
                },
            )
            .map_err(|_| SealError::Tampered(name.into()))?;
        let mut out = Vec::with_capacity(HEADER + ct.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Open a sealed file called `name`.
    pub fn open(&self, name: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.len() < HEADER || &sealed[..MAGIC.len()] != MAGIC {
            return Err(SealError::NotSealed(name.into()));
        }
        let id = &sealed[MAGIC.len()..MAGIC.len() + KEY_ID];
        if id != self.id {
            return Err(SealError::WrongKey {
                name: name.into(),
                want: hex::encode(id),
                have: self.id_hex(),
            });
        }
        let nonce = &sealed[MAGIC.len() + KEY_ID..HEADER];
        let cipher = XChaCha20Poly1305::new((&self.key).into());
        cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: &sealed[HEADER..],
                    aad: &self.aad(name),
                },
            )
            .map_err(|_| SealError::Tampered(name.into()))
    }

    /// Open the sealed file at `path` (its base name is part of the seal).
    pub fn open_file(&self, path: &Path) -> Result<Vec<u8>, SealError> {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let bytes = std::fs::read(path)
            .map_err(|e| SealError::NotSealed(format!("{} ({e})", path.display())))?;
        self.open(&name, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_opens_only_with_its_key_and_name() {
        let k = SealKey::from_bytes([7; 32]);
        let s = k
            .seal("cam-f000001.jpg.sealed", b"\xff\xd8jpeg bytes")
            .unwrap();
        assert!(!s.windows(4).any(|w| w == b"jpeg"), "plaintext visible");
        assert_eq!(
            k.open("cam-f000001.jpg.sealed", &s).unwrap(),
            b"\xff\xd8jpeg bytes"
        );
        let e = k
            .open("cam-f000002.jpg.sealed", &s)
            .unwrap_err()
            .to_string();
        assert!(e.contains("renamed"), "{e}");
        let other = SealKey::from_bytes([8; 32]);
        let e = other
            .open("cam-f000001.jpg.sealed", &s)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&k.id_hex()) && e.contains(&other.id_hex()),
            "{e}"
        );
        let mut t = s.clone();
        *t.last_mut().unwrap() ^= 1;
        assert!(matches!(
            k.open("cam-f000001.jpg.sealed", &t),
            Err(SealError::Tampered(_))
        ));
        assert!(matches!(
            k.open("x", b"\xff\xd8 plain jpeg"),
            Err(SealError::NotSealed(_))
        ));
        // Two seals of the same bytes differ (fresh nonce).
        assert_ne!(
            s,
            k.seal("cam-f000001.jpg.sealed", b"\xff\xd8jpeg bytes")
                .unwrap()
        );
        assert!(!format!("{k:?}").contains("0707"));
    }

    #[test]
    fn key_files_round_trip_and_bad_ones_say_how_to_fix() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("cam.key");
        let k = SealKey::generate().unwrap();
        k.save(&p).unwrap();
        assert_eq!(SealKey::load(&p).unwrap().id_hex(), k.id_hex());
        assert!(
            k.save(&p).is_err(),
            "an existing key must not be overwritten"
        );
        std::fs::write(&p, "abc").unwrap();
        let e = SealKey::load(&p).unwrap_err().to_string();
        assert!(
            e.contains("64 hexadecimal") && e.contains("posbon evidence keygen"),
            "{e}"
        );
        let e = SealKey::load(&dir.path().join("none.key"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot read"), "{e}");
    }
}
