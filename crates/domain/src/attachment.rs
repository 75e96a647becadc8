//! Files attached to an incident by the people who work it (a photo an inspector took, a scanned
//! statement, a short video). The rules are here, pure: which kinds of file are accepted, told
//! by their first bytes and never by their name or the type the sender claims; how a sent file
//! name is cleaned before it is shown; what a stored attachment records.
use serde::{Deserialize, Serialize};

use crate::access::UserId;
use crate::incident::IncidentId;
use crate::time::Timestamp;
use crate::{DomainError, check_text, id_type, word_enum};

id_type!(AttachmentId);

/// The longest file name kept, in characters (after cleaning).
pub const MAX_FILE_NAME_CHARS: usize = 200;

word_enum! {
    /// The kinds of file an incident may carry, as media types.
    pub enum MediaType("attachment type") {
        Jpeg = "image/jpeg",
        Png = "image/png",
        Pdf = "application/pdf",
        Mp4 = "video/mp4",
        QuickTime = "video/quicktime",
        /// UTF-8 text that does not start like markup.
        Text = "text/plain",
    }
}

/// ISO base media brands (the `ftyp` box) of MP4 video; `qt  ` is QuickTime. HEIF/AVIF images
/// share the container and are not among them.
const MP4_BRANDS: &[&[u8; 4]] = &[
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ",
    b"M4VH", b"M4VP", b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"MSNV", b"dash", b"f4v ", b"mmp4",
];

impl MediaType {
    /// Videos are told apart so they can be refused with their own reason: their faces are not
    /// blurred yet, so they are not accepted ([`MediaType::allowed`] leaves them out).
    pub fn is_video(self) -> bool {
        matches!(self, MediaType::Mp4 | MediaType::QuickTime)
    }

    /// The kind of `bytes`, from their first bytes alone; `None` for anything not accepted
    /// (executables, HTML, SVG, archives, office files, images other than JPEG and PNG, ...).
    pub fn sniff(bytes: &[u8]) -> Option<MediaType> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            return Some(MediaType::Jpeg);
        }
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Some(MediaType::Png);
        }
        if bytes.starts_with(b"%PDF-") {
            return Some(MediaType::Pdf);
        }
        if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
            let size = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
            let brand: &[u8] = &bytes[8..12];
            if size >= 16 && brand == b"qt  " {
                return Some(MediaType::QuickTime);
            }
            if size >= 16 && MP4_BRANDS.iter().any(|b| b.as_slice() == brand) {
                return Some(MediaType::Mp4);
            }
            return None;
        }
        is_plain_text(bytes).then_some(MediaType::Text)
    }

    /// The words of every accepted kind, for messages.
    pub fn allowed() -> String {
        MediaType::ALL
            .iter()
            .filter(|m| !m.is_video())
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// UTF-8 (a byte-order mark allowed) without control characters other than tab, line feed,
/// form feed and carriage return, whose first visible character is not `<`: HTML, SVG and XML
/// are refused, though they are text, because a browser may run them.
fn is_plain_text(bytes: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(bytes) else {
        return false;
    };
    let s = s.strip_prefix('\u{feff}').unwrap_or(s);
    if s.chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c'))
    {
        return false;
    }
    !s.trim_start().starts_with('<')
}

/// Characters that change how text around them is shown without being seen themselves:
/// bidirectional overrides and isolates (which can make `gpj.exe` read as `exe.jpg`), zero-width
/// characters and the byte-order mark.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// A file name as sent, made fit to show and to offer back on download: only its last path
/// component (browsers on Windows may send `C:\fakepath\x.jpg`), without control and invisible
/// formatting characters, trimmed, leading dots removed, at most [`MAX_FILE_NAME_CHARS`]
/// characters; `attachment` when nothing is left.
pub fn clean_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let kept: String = base
        .chars()
        .filter(|c| !c.is_control() && !is_invisible_format(*c))
        .collect();
    let name: String = kept
        .trim()
        .trim_start_matches('.')
        .trim()
        .chars()
        .take(MAX_FILE_NAME_CHARS)
        .collect();
    let name = name.trim_end().to_owned();
    if name.is_empty() {
        "attachment".to_owned()
    } else {
        name
    }
}

/// How a photo was redacted before it was stored: what is stored and shown is the photo with
/// its faces blurred (and nothing of the file but its pixels); the original is kept only sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoRedaction {
    /// Faces found and blurred.
    pub faces_blurred: u32,
    /// Of the file as sent, lowercase hex.
    pub original_sha256: String,
    /// The original was sealed with the evidence key and kept beside the redacted photo; false
    /// when the server has no evidence key (then only the redacted photo exists).
    pub original_sealed: bool,
}

/// A file attached to an incident, as stored. The file itself lies under the server's data
/// folder at `stored_path`, named by its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: AttachmentId,
    pub incident: IncidentId,
    /// As sent, cleaned by [`clean_file_name`].
    pub file_name: String,
    pub media_type: MediaType,
    /// In bytes.
    pub size: i64,
    /// Of the content, lowercase hex.
    pub sha256: String,
    /// Relative to the server's data folder; not part of the API's answers.
    #[serde(skip)]
    pub stored_path: String,
    pub uploaded_by: UserId,
    pub uploaded_at: Timestamp,
    /// For photos: how they were redacted (`size` and `sha256` are the redacted photo's).
    pub redaction: Option<PhotoRedaction>,
}

/// What it takes to record an attachment whose file is already stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    pub incident: IncidentId,
    pub file_name: String,
    pub media_type: MediaType,
    pub size: i64,
    pub sha256: String,
    pub stored_path: String,
    pub uploaded_by: UserId,
    pub redaction: Option<PhotoRedaction>,
}

impl NewAttachment {
    pub fn validate(&self) -> Result<(), DomainError> {
        check_text(
            "attachment file name",
            &self.file_name,
            MAX_FILE_NAME_CHARS,
            false,
        )?;
        if self.size < 1 {
            return Err(DomainError::invalid("attachment", "is empty"));
        }
        if self.sha256.len() != 64
            || !self
                .sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(DomainError::invalid(
                "attachment",
                "its sha256 is not 64 lowercase hex digits",
            ));
        }
        let plain = !self.stored_path.is_empty()
            && !self.stored_path.starts_with('/')
            && self
                .stored_path
                .split('/')
                .all(|p| !p.is_empty() && p != "." && p != ".." && !p.contains('\\'));
        if !plain {
            return Err(DomainError::invalid(
                "attachment",
                format!(
                    "its stored path {:?} is not a plain path relative to the data folder",
                    self.stored_path
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_told_by_their_first_bytes() {
        assert_eq!(
            MediaType::sniff(b"\xFF\xD8\xFF\xE0\0\x10JFIF"),
            Some(MediaType::Jpeg)
        );
        assert_eq!(
            MediaType::sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some(MediaType::Png)
        );
        assert_eq!(
            MediaType::sniff(b"%PDF-1.7\n%\xE2\xE3"),
            Some(MediaType::Pdf)
        );
        assert_eq!(
            MediaType::sniff(b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2"),
            Some(MediaType::Mp4)
        );
        assert_eq!(
            MediaType::sniff(b"\0\0\0\x14ftypqt  \0\0\x02\0"),
            Some(MediaType::QuickTime)
        );
        assert_eq!(
            MediaType::sniff("Patrol note: two cars, 21:40.\r\nО'zbek matni.\n".as_bytes()),
            Some(MediaType::Text)
        );
        assert_eq!(
            MediaType::sniff("\u{feff}with a BOM".as_bytes()),
            Some(MediaType::Text)
        );
        for refused in [
            &b"\x7FELF\x02\x01\x01\0\0\0"[..],
            b"MZ\x90\0\x03\0\0\0",
            b"<!doctype html><script>alert(1)</script>",
            b"  \n<html><body>x</body></html>",
            b"<svg xmlns='http://www.w3.org/2000/svg'/>",
            b"PK\x03\x04\x14\0",
            b"GIF89a\x01\0",
            b"\0\0\0\x18ftypheic\0\0\0\0mif1heic",
            b"\0\0\0\x04ftypisom",
            b"text with a NUL\0 in it",
            b"\xC3\x28 not UTF-8",
        ] {
            assert_eq!(MediaType::sniff(refused), None, "{refused:?}");
        }
        let allowed = MediaType::allowed();
        assert!(allowed.contains("image/jpeg") && allowed.contains("text/plain"));
        assert!(
            !allowed.contains("video"),
            "videos are told apart, not accepted"
        );
    }

    #[test]
    fn file_names_are_cleaned_for_display() {
        assert_eq!(clean_file_name("photo 1.jpg"), "photo 1.jpg");
        assert_eq!(clean_file_name("C:\\fakepath\\scan.pdf"), "scan.pdf");
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("a\r\nb\0.txt"), "ab.txt");
        assert_eq!(clean_file_name("report\u{202E}gpj.exe"), "reportgpj.exe");
        assert_eq!(clean_file_name(".."), "attachment");
        assert_eq!(clean_file_name("  .hidden "), "hidden");
        assert_eq!(clean_file_name(""), "attachment");
        assert_eq!(clean_file_name("dir/"), "attachment");
        assert_eq!(
            clean_file_name(&"ж".repeat(500)).chars().count(),
            MAX_FILE_NAME_CHARS
        );
    }

    #[test]
    fn a_new_attachment_is_checked() {
        let ok = NewAttachment {
            incident: IncidentId(1),
            file_name: "a.jpg".into(),
            media_type: MediaType::Jpeg,
            size: 3,
            sha256: "ab".repeat(32),
            stored_path: format!("attachments/incident-1/{}", "ab".repeat(32)),
            uploaded_by: UserId(1),
            redaction: None,
        };
        assert!(ok.validate().is_ok());
        for bad in [
            NewAttachment {
                size: 0,
                ..ok.clone()
            },
            NewAttachment {
                sha256: "AB".repeat(32),
                ..ok.clone()
            },
            NewAttachment {
                file_name: " ".into(),
                ..ok.clone()
            },
            NewAttachment {
                stored_path: "/etc/passwd".into(),
                ..ok.clone()
            },
            NewAttachment {
                stored_path: "attachments/../x".into(),
                ..ok.clone()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }
}
