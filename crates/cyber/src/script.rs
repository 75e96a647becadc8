//! Just enough of Unicode scripts to catch look-alike domains: which script a letter belongs
//! to (by block), and which non-Latin letters are drawn like Latin ones.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Script {
    /// Digits, hyphen, marks and everything script-neutral.
    Common,
    Latin,
    Cyrillic,
    Greek,
    Armenian,
    Georgian,
    Cherokee,
    Arabic,
    Hebrew,
    Han,
    Kana,
    Hangul,
    Other,
}

pub(crate) fn script_of(c: char) -> Script {
    let u = c as u32;
    if c.is_ascii() {
        return if c.is_ascii_alphabetic() {
            Script::Latin
        } else {
            Script::Common
        };
    }
    match u {
        0x00C0..=0x024F | 0x1E00..=0x1EFF | 0x2C60..=0x2C7F | 0xA720..=0xA7FF | 0xAB30..=0xAB6F => {
            if u == 0x00D7 || u == 0x00F7 {
                Script::Common
            } else {
                Script::Latin
            }
        }
        0x0250..=0x02AF => Script::Latin, // IPA extensions (ɡ, ɑ, ...), drawn as Latin
        0x02B0..=0x036F => Script::Common,
        0x0370..=0x03FF | 0x1F00..=0x1FFF => Script::Greek,
        0x0400..=0x052F | 0x1C80..=0x1C8F | 0x2DE0..=0x2DFF | 0xA640..=0xA69F => Script::Cyrillic,
        0x0530..=0x058F => Script::Armenian,
        0x0590..=0x05FF => Script::Hebrew,
        0x0600..=0x06FF | 0x0750..=0x077F | 0x08A0..=0x08FF => Script::Arabic,
        0x10A0..=0x10FF | 0x1C90..=0x1CBF => Script::Georgian,
        0x13A0..=0x13FF | 0xAB70..=0xABBF => Script::Cherokee,
        0x3040..=0x30FF => Script::Kana,
        0x1100..=0x11FF | 0xAC00..=0xD7AF => Script::Hangul,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF => Script::Han,
        _ if !c.is_alphabetic() => Script::Common,
        _ => Script::Other,
    }
}

/// Non-Latin letters (lower case, as IDNA maps them) that are drawn like a Latin letter.
pub(crate) fn is_latin_lookalike(c: char) -> bool {
    matches!(
        c,
        // Cyrillic
        'а' | 'е' | 'о' | 'р' | 'с' | 'у' | 'х' | 'ѕ' | 'і' | 'ј' | 'һ' | 'ԁ' | 'ԛ' | 'ԝ' | 'ӏ'
            | 'ү' | 'ѵ' | 'ӧ' | 'ё' | 'ї'
            // Greek
            | 'ο' | 'α' | 'ν' | 'ρ' | 'ι' | 'κ' | 'υ' | 'χ'
            // Armenian
            | 'օ' | 'ս' | 'հ' | 'ո' | 'ց' | 'զ' | 'ա' | 'ւ' | 'ռ'
    )
}

/// (mixed script, whole-script Latin look-alike) for one label in Unicode form.
pub(crate) fn label_scripts(label: &str) -> (bool, bool) {
    let mut first: Option<Script> = None;
    let mut mixed = false;
    let mut letters = 0usize;
    let mut lookalikes = 0usize;
    for c in label.chars() {
        let s = script_of(c);
        if s == Script::Common {
            continue;
        }
        letters += 1;
        if s != Script::Latin && is_latin_lookalike(c) {
            lookalikes += 1;
        }
        match first {
            None => first = Some(s),
            Some(f) if f != s => {
                // Japanese mixes Han and Kana; Korean Han and Hangul: not tricks.
                let cjk = |x: Script| matches!(x, Script::Han | Script::Kana | Script::Hangul);
                if !(cjk(f) && cjk(s)) {
                    mixed = true;
                }
            }
            _ => {}
        }
    }
    let whole = !mixed
        && letters > 0
        && lookalikes == letters
        && matches!(
            first,
            Some(Script::Cyrillic | Script::Greek | Script::Armenian)
        );
    (mixed, whole)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts() {
        assert_eq!(label_scripts("paypal"), (false, false));
        assert_eq!(label_scripts("pаypal"), (true, false)); // Cyrillic а
        assert_eq!(label_scripts("аррӏе"), (false, true));
        assert_eq!(label_scripts("пример"), (false, false));
        assert_eq!(label_scripts("bank-24"), (false, false));
        assert_eq!(label_scripts("münchen"), (false, false));
    }
}
