//! Words as labels, numbers as text, and text as the PDF's WinAnsi bytes.
//!
//! **The PDF's character fallback.** The PDF uses the base-14 fonts Helvetica and
//! Helvetica-Bold with WinAnsiEncoding (nothing embedded, so every reader has them). WinAnsi
//! holds ASCII, Latin-1 and the typographic quotes, but not Uzbek Latin's modifier letters nor
//! Cyrillic. [`to_winansi`] maps:
//! * `ʻ` (U+02BB, as in Oʻzbekiston) to `‘` and `ʼ` (U+02BC) to `’`, their WinAnsi look-alikes;
//! * Uzbek and Russian Cyrillic letter by letter to Uzbek Latin (`Ў` O‘, `Қ` Q, `Ғ` G‘, `Ҳ` H,
//!   `Ш` Sh, `Ч` Ch, `Ц` Ts, `Ё` Yo, `Ю` Yu, `Я` Ya, `Ъ` ’, `Ь` dropped, ...);
//! * tabs and line breaks to spaces, and anything else outside WinAnsi to `?`.
//!
//! The HTML and CSV keep the text exactly as given (UTF-8).
use crate::metrics::{HELVETICA, HELVETICA_BOLD};

/// `drug_offence` as `Drug offence`.
pub fn label(key: &str) -> String {
    let spaced = key.replace('_', " ");
    let mut c = spaced.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `0.125` as `12.5%`; a dash for `None`.
pub fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "-".into(), |s| format!("{:.1}%", s * 100.0))
}

/// A number with `decimals` places; a dash for `None` or a value that is not finite.
pub fn fixed(v: Option<f64>, decimals: usize) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x:.decimals$}"),
        _ => "-".into(),
    }
}

/// A count with thin grouping: `12 345`. Plain digits below 10,000, so small tables stay plain.
pub fn count(n: u64) -> String {
    let s = n.to_string();
    if n < 10_000 {
        return s;
    }
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(ch);
    }
    out
}

/// A number for the CSV: integers as integers, others with up to 6 decimals, trailing zeros
/// dropped; empty for `None` or a value that is not finite.
pub fn csv_number(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => {
            let s = format!("{x:.6}");
            let s = s.trim_end_matches('0').trim_end_matches('.');
            if s == "-0" { "0".into() } else { s.into() }
        }
        _ => String::new(),
    }
}

/// Uzbek and Russian Cyrillic in Uzbek Latin (see the module's notes); `None` for other
/// characters.
fn cyrillic(c: char) -> Option<String> {
    let upper = match c.to_uppercase().next().unwrap_or(c) {
        'А' => "A",
        'Б' => "B",
        'В' => "V",
        'Г' => "G",
        'Д' => "D",
        'Е' | 'Э' => "E",
        'Ё' => "Yo",
        'Ж' => "J",
        'З' => "Z",
        'И' | 'Ы' => "I",
        'Й' => "Y",
        'К' => "K",
        'Л' => "L",
        'М' => "M",
        'Н' => "N",
        'О' => "O",
        'П' => "P",
        'Р' => "R",
        'С' => "S",
        'Т' => "T",
        'У' => "U",
        'Ф' => "F",
        'Х' => "X",
        'Ц' => "Ts",
        'Ч' => "Ch",
        'Ш' | 'Щ' => "Sh",
        'Ъ' => "\u{2019}",
        'Ь' => "",
        'Ю' => "Yu",
        'Я' => "Ya",
        'Ў' => "O\u{2018}",
        'Қ' => "Q",
        'Ғ' => "G\u{2018}",
        'Ҳ' => "H",
        _ => return None,
    };
    let is_lower = c.to_uppercase().next() != Some(c);
    Some(if is_lower {
        upper.to_lowercase()
    } else {
        upper.to_owned()
    })
}

/// The WinAnsi byte of `c`, if it has one.
fn winansi_byte(c: char) -> Option<u8> {
    let u = c as u32;
    match u {
        0x20..=0x7E | 0xA0..=0xFF => Some(u as u8),
        _ => {
            const HIGH: [(char, u8); 27] = [
                ('\u{20AC}', 0x80),
                ('\u{201A}', 0x82),
                ('\u{0192}', 0x83),
                ('\u{201E}', 0x84),
                ('\u{2026}', 0x85),
                ('\u{2020}', 0x86),
                ('\u{2021}', 0x87),
                ('\u{02C6}', 0x88),
                ('\u{2030}', 0x89),
                ('\u{0160}', 0x8A),
                ('\u{2039}', 0x8B),
                ('\u{0152}', 0x8C),
                ('\u{017D}', 0x8E),
                ('\u{2018}', 0x91),
                ('\u{2019}', 0x92),
                ('\u{201C}', 0x93),
                ('\u{201D}', 0x94),
                ('\u{2022}', 0x95),
                ('\u{2013}', 0x96),
                ('\u{2014}', 0x97),
                ('\u{02DC}', 0x98),
                ('\u{2122}', 0x99),
                ('\u{0161}', 0x9A),
                ('\u{203A}', 0x9B),
                ('\u{0153}', 0x9C),
                ('\u{017E}', 0x9E),
                ('\u{0178}', 0x9F),
            ];
            HIGH.iter().find(|(ch, _)| *ch == c).map(|(_, b)| *b)
        }
    }
}

/// `s` as WinAnsi bytes for the PDF's base-14 fonts (see the module's notes for the fallback).
pub fn to_winansi(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        let c = match c {
            '\u{02BB}' => '\u{2018}',
            '\u{02BC}' => '\u{2019}',
            '\t' | '\n' | '\r' => ' ',
            c => c,
        };
        if let Some(b) = winansi_byte(c) {
            out.push(b);
        } else if let Some(latin) = cyrillic(c) {
            out.extend(latin.chars().filter_map(winansi_byte));
        } else {
            out.push(b'?');
        }
    }
    out
}

/// The width in points of WinAnsi `bytes` set in Helvetica (or Helvetica-Bold) at `size`.
pub fn width(bytes: &[u8], size: f64, bold: bool) -> f64 {
    let table = if bold { &HELVETICA_BOLD } else { &HELVETICA };
    let units: u32 = bytes.iter().map(|&b| u32::from(table[b as usize])).sum();
    f64::from(units) * size / 1000.0
}

/// The width in points of `s` as the PDF sets it.
pub fn text_width(s: &str, size: f64, bold: bool) -> f64 {
    width(&to_winansi(s), size, bold)
}

/// `s` with `& < > " '` escaped for HTML and SVG text and attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uzbek_latin_and_cyrillic_fall_back_to_winansi() {
        assert_eq!(to_winansi("Oʻzbekiston"), b"O\x91zbekiston");
        assert_eq!(to_winansi("Gʻalaba"), b"G\x91alaba");
        assert_eq!(to_winansi("Чилонзор"), b"Chilonzor");
        assert_eq!(to_winansi("Ўрта Ғишт"), b"O\x91rta G\x91isht");
        assert_eq!(to_winansi("Қўқон"), b"Qo\x91qon");
        assert_eq!(to_winansi("Юнусобод"), b"Yunusobod");
        assert_eq!(to_winansi("café – 5€"), b"caf\xe9 \x96 5\x80");
        assert_eq!(to_winansi("a\tb\nc"), b"a b c");
        assert_eq!(to_winansi("漢"), b"?");
    }

    #[test]
    fn widths_follow_helvetica() {
        // Digits are all 556/1000 em in Helvetica, so numbers line up.
        assert!((text_width("0123456789", 10.0, false) - 55.6).abs() < 1e-9);
        assert!((text_width("A", 1000.0, false) - 667.0).abs() < 1e-9);
        assert!((text_width("A", 1000.0, true) - 722.0).abs() < 1e-9);
        assert!(text_width("ʻ", 10.0, false) > 0.0);
    }

    #[test]
    fn numbers_as_text() {
        assert_eq!(count(9_999), "9999");
        assert_eq!(count(1_234_567), "1 234 567");
        assert_eq!(percent(Some(0.125)), "12.5%");
        assert_eq!(percent(None), "-");
        assert_eq!(fixed(Some(f64::NAN), 2), "-");
        assert_eq!(csv_number(Some(2.0)), "2");
        assert_eq!(csv_number(Some(0.1234567)), "0.123457");
        assert_eq!(csv_number(Some(-0.0000001)), "0");
        assert_eq!(csv_number(None), "");
        assert_eq!(label("drug_offence"), "Drug offence");
        assert_eq!(escape("<a href='x'>&"), "&lt;a href=&#39;x&#39;&gt;&amp;");
    }
}
