//! The cleaned view of an input text that every extractor reads.
//!
//! Before anything is matched, the text is rewritten once, left to right:
//! - bidirectional controls (U+061C, U+200E/F, U+202A–E, U+2066–9) and invisible characters
//!   (zero-width space/joiners, word joiner, soft hyphen, BOM, variation selectors, Hangul
//!   fillers, tag characters) are removed;
//! - exotic spaces become `' '` and the dash family becomes `'-'`;
//! - full-width ASCII forms, Arabic-Indic and mathematical digits and ideographic full stops
//!   become their ASCII counterparts (flagged as compatibility characters);
//! - defanged notation (`hxxp://`, `[.]`, `(.)`, `{.}`, `[dot]`, `[:]`, `[://]`) is re-fanged.
//!
//! Each change is remembered as an anchor, so that a byte range of the cleaned text maps back to
//! the exact byte range of the original (always on char boundaries), and so that an indicator
//! can tell which tricks were used inside it. Memory is proportional to the number of changes,
//! time is linear in the text.

pub(crate) const F_BIDI: u8 = 1;
pub(crate) const F_INVISIBLE: u8 = 2;
pub(crate) const F_COMPAT: u8 = 4;
pub(crate) const F_DEFANG: u8 = 8;

#[derive(Clone, Copy, Debug)]
struct Anchor {
    /// Offset in the cleaned text of the (possibly replaced) char this anchor describes.
    clean: usize,
    /// Offset in the original of the same char (after any removed chars before it).
    orig: usize,
    clean_len: usize,
    orig_len: usize,
    flags: u8,
}

pub(crate) struct Cleaned {
    pub text: String,
    anchors: Vec<Anchor>,
    orig_len: usize,
}

fn removable(c: char) -> u8 {
    match c {
        '\u{061C}'
        | '\u{200E}'
        | '\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}' => F_BIDI,
        '\u{00AD}'
        | '\u{034F}'
        | '\u{115F}'
        | '\u{1160}'
        | '\u{17B4}'
        | '\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200D}'
        | '\u{2060}'..='\u{2064}'
        | '\u{206A}'..='\u{206F}'
        | '\u{3164}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}'
        | '\u{FFA0}'
        | '\u{E0000}'..='\u{E007F}'
        | '\u{E0100}'..='\u{E01EF}' => F_INVISIBLE,
        _ => 0,
    }
}

/// A one-char replacement and its flag, if any.
fn replacement(c: char) -> Option<(char, u8)> {
    let r = match c {
        '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => (' ', 0),
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' => ('-', 0),
        '\u{3002}' | '\u{FF61}' => ('.', F_COMPAT),
        '\u{FF01}'..='\u{FF5E}' => (char::from_u32(c as u32 - 0xFEE0).unwrap_or('?'), F_COMPAT),
        '\u{0660}'..='\u{0669}' => (digit(c as u32 - 0x0660), F_COMPAT),
        '\u{06F0}'..='\u{06F9}' => (digit(c as u32 - 0x06F0), F_COMPAT),
        '\u{1D7CE}'..='\u{1D7FF}' => (digit((c as u32 - 0x1D7CE) % 10), F_COMPAT),
        _ => return None,
    };
    Some(r)
}

fn digit(d: u32) -> char {
    char::from_digit(d, 10).unwrap_or('0')
}

fn starts_with_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len() && hay[..needle.len()].eq_ignore_ascii_case(needle)
}

fn is_word_char(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric())
}

/// Defanged notation at `bytes[i..]`: (consumed original bytes, replacement text).
fn defang(text: &str, i: usize, prev: Option<char>) -> Option<(usize, &'static str)> {
    let b = &text.as_bytes()[i..];
    match b.first()? {
        b'[' | b'(' | b'{' => {
            let close = match b[0] {
                b'[' => b']',
                b'(' => b')',
                _ => b'}',
            };
            // [.] (.) {.} [dot] (dot) between two word characters
            for inner in [&b"."[..], b"dot"] {
                let n = inner.len() + 2;
                if b.len() > n
                    && starts_with_ci(&b[1..], inner)
                    && b[n - 1] == close
                    && is_word_char(prev)
                    && is_word_char(text[i + n..].chars().next())
                {
                    return Some((n, "."));
                }
            }
            if b[0] == b'[' {
                if b.starts_with(b"[://]") {
                    return Some((5, "://"));
                }
                if b.starts_with(b"[:]//") {
                    return Some((3, ":"));
                }
            }
            None
        }
        b'h' | b'H' => {
            if is_word_char(prev) || !starts_with_ci(b, b"hxxp") {
                return None;
            }
            let (n, out) = if b.len() > 4 && (b[4] == b's' || b[4] == b'S') {
                (5, "https")
            } else {
                (4, "http")
            };
            let rest = &b[n..];
            if rest.starts_with(b"://") || rest.starts_with(b"[:]//") || rest.starts_with(b"[://]")
            {
                Some((n, out))
            } else {
                None
            }
        }
        _ => None,
    }
}

impl Cleaned {
    pub fn new(orig: &str) -> Cleaned {
        let mut text = String::with_capacity(orig.len());
        let mut anchors = Vec::new();
        let mut pending: u8 = 0;
        let mut has_pending = false;
        let mut prev: Option<char> = None;
        let mut i = 0;
        let bytes = orig.as_bytes();
        while i < orig.len() {
            // Fast path: a run of plain ASCII that needs no change.
            let b = bytes[i];
            if b.is_ascii() && !has_pending && !matches!(b, b'[' | b'(' | b'{' | b'h' | b'H') {
                text.push(b as char);
                prev = Some(b as char);
                i += 1;
                continue;
            }
            if let Some((n, out)) = defang(orig, i, prev) {
                anchors.push(Anchor {
                    clean: text.len(),
                    orig: i,
                    clean_len: out.len(),
                    orig_len: n,
                    flags: pending | F_DEFANG,
                });
                text.push_str(out);
                prev = out.chars().last();
                pending = 0;
                has_pending = false;
                i += n;
                continue;
            }
            let c = orig[i..].chars().next().unwrap_or('\u{FFFD}');
            let clen = c.len_utf8();
            let rm = removable(c);
            if rm != 0 {
                pending |= rm;
                has_pending = true;
                i += clen;
                continue;
            }
            match replacement(c) {
                Some((r, flag)) => {
                    anchors.push(Anchor {
                        clean: text.len(),
                        orig: i,
                        clean_len: r.len_utf8(),
                        orig_len: clen,
                        flags: pending | flag,
                    });
                    text.push(r);
                    prev = Some(r);
                }
                None => {
                    if has_pending {
                        anchors.push(Anchor {
                            clean: text.len(),
                            orig: i,
                            clean_len: clen,
                            orig_len: clen,
                            flags: pending,
                        });
                    }
                    text.push(c);
                    prev = Some(c);
                }
            }
            pending = 0;
            has_pending = false;
            i += clen;
        }
        if has_pending {
            anchors.push(Anchor {
                clean: text.len(),
                orig: orig.len(),
                clean_len: 0,
                orig_len: 0,
                flags: pending,
            });
        }
        Cleaned {
            text,
            anchors,
            orig_len: orig.len(),
        }
    }

    /// The original offset of the char that starts at cleaned offset `c`.
    pub fn map_start(&self, c: usize) -> usize {
        let idx = self.anchors.partition_point(|a| a.clean <= c);
        if idx == 0 {
            return c.min(self.orig_len);
        }
        let a = self.anchors[idx - 1];
        if c < a.clean + a.clean_len {
            a.orig
        } else {
            (a.orig + a.orig_len + (c - a.clean - a.clean_len)).min(self.orig_len)
        }
    }

    /// The original offset just past the char that ends at cleaned offset `c`.
    pub fn map_end(&self, c: usize) -> usize {
        if c == 0 {
            return 0;
        }
        let idx = self.anchors.partition_point(|a| a.clean < c);
        if idx == 0 {
            return c.min(self.orig_len);
        }
        let a = self.anchors[idx - 1];
        if c <= a.clean + a.clean_len {
            a.orig + a.orig_len
        } else {
            (a.orig + a.orig_len + (c - a.clean - a.clean_len)).min(self.orig_len)
        }
    }

    /// The tricks (flags) used within cleaned range `s..e`, including characters removed just
    /// before `s`.
    pub fn flags_in(&self, s: usize, e: usize) -> u8 {
        let lo = self.anchors.partition_point(|a| a.clean < s);
        let mut f = 0;
        for a in &self.anchors[lo..] {
            if a.clean >= e {
                break;
            }
            f |= a.flags;
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_when_nothing_changes() {
        let c = Cleaned::new("+998 90 123 45 67");
        assert_eq!(c.text, "+998 90 123 45 67");
        assert_eq!(c.map_start(5), 5);
        assert_eq!(c.map_end(17), 17);
    }

    #[test]
    fn removed_and_replaced_chars_map_back() {
        let orig = "ab\u{200B}cd\u{00A0}e\u{FF11}f\u{202E}";
        let c = Cleaned::new(orig);
        assert_eq!(c.text, "abcd e1f");
        // "cd" in clean is 2..4
        assert_eq!(&orig[c.map_start(2)..c.map_end(4)], "cd");
        // "ab"
        assert_eq!(&orig[c.map_start(0)..c.map_end(2)], "ab");
        // "e1f"
        assert_eq!(&orig[c.map_start(5)..c.map_end(8)], "e\u{FF11}f");
        assert_eq!(c.flags_in(0, 2), 0);
        assert_eq!(c.flags_in(1, 4) & F_INVISIBLE, F_INVISIBLE);
        assert_eq!(c.flags_in(5, 8) & F_COMPAT, F_COMPAT);
        assert_eq!(c.flags_in(8, 8), 0);
    }

    #[test]
    fn defanged_forms_are_refanged() {
        let c = Cleaned::new("hxxps[:]//evil[.]com and hXXp://bad(.)uz and x [.] y");
        assert_eq!(c.text, "https://evil.com and http://bad.uz and x [.] y");
        let s = c.text.find("evil").unwrap();
        assert_ne!(c.flags_in(0, s + 8) & F_DEFANG, 0);
        let c = Cleaned::new("example[dot]com hxxp[://]x.uz");
        assert_eq!(c.text, "example.com http://x.uz");
    }
}
