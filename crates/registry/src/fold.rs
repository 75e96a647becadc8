//! Comparing place names as people type them: case, the several apostrophes of Uzbek Latin
//! (o‘ o' oʻ o` o’), and runs of spaces do not matter.

/// Lower case, apostrophe-like characters removed, `-` as a space, spaces collapsed.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = true;
    for c in s.chars() {
        if matches!(c, '\'' | '‘' | '’' | 'ʻ' | 'ʼ' | '`' | 'ʹ' | '´') {
            continue;
        }
        if c.is_whitespace() || c == '-' {
            if !space {
                out.push(' ');
                space = true;
            }
            continue;
        }
        space = false;
        out.extend(c.to_lowercase());
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// What kind of district a name says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// tuman, район
    Rural,
    /// shahar, город
    City,
}

/// Suffixes and prefixes (already folded) that say what kind a place is, in each script.
const RURAL_SUFFIXES: &[&str] = &[" tumani", " тумани", " district", " район"];
const CITY_SUFFIXES: &[&str] = &[" shahri", " шаҳри", " city", " shahar", " шаҳар"];
const CITY_PREFIXES: &[&str] = &["город ", "г. ", "shahar "];

/// The folded name without the word that says its kind, and that kind if one was said.
pub fn stem(s: &str) -> (String, Option<Kind>) {
    let f = fold(s);
    for suf in RURAL_SUFFIXES {
        if let Some(rest) = f.strip_suffix(suf) {
            return (rest.trim().to_owned(), Some(Kind::Rural));
        }
    }
    for suf in CITY_SUFFIXES {
        if let Some(rest) = f.strip_suffix(suf) {
            return (rest.trim().to_owned(), Some(Kind::City));
        }
    }
    for pre in CITY_PREFIXES {
        if let Some(rest) = f.strip_prefix(pre) {
            return (rest.trim().to_owned(), Some(Kind::City));
        }
    }
    (f, None)
}

/// Levenshtein distance over characters, for suggesting a name that was probably meant.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apostrophes_case_and_spaces_do_not_matter() {
        for s in ["Qo‘qon", "Qo'qon", "qoʻqon", "QO`QON", " Qo’qon "] {
            assert_eq!(fold(s), "qoqon", "{s}");
        }
        assert_eq!(fold("Mirzo  Ulug'bek-tumani"), "mirzo ulugbek tumani");
    }

    #[test]
    fn stems_say_the_kind() {
        assert_eq!(
            stem("Yunusobod tumani"),
            ("yunusobod".into(), Some(Kind::Rural))
        );
        assert_eq!(stem("Andijon shahri"), ("andijon".into(), Some(Kind::City)));
        assert_eq!(stem("город Андижан"), ("андижан".into(), Some(Kind::City)));
        assert_eq!(
            stem("Юнусобод тумани"),
            ("юнусобод".into(), Some(Kind::Rural))
        );
        assert_eq!(stem("Yunusobod"), ("yunusobod".into(), None));
    }

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("yunusbod", "yunusobod"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
