//! Messenger handles. Telegram's rules: 5–32 characters of `a-z`, `0-9` and `_`, starting with a
//! letter, not ending with `_`; case-insensitive, so the normal form is lower case without the
//! `@`. Written as `@name`, or as a `t.me/name`, `telegram.me/name`, `telegram.dog/name` link
//! (`t.me/s/name` too).

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HandleError {
    Length(usize),
    BadCharacter(char),
    MustStartWithLetter,
    EndsWithUnderscore,
    /// A t.me link to something that is not a user or channel (an invite, a sticker set, ...).
    NotAUserLink,
}

impl fmt::Display for HandleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandleError::Length(n) => {
                write!(f, "a Telegram username has 5 to 32 characters, not {n}")
            }
            HandleError::BadCharacter(c) => {
                write!(f, "{c:?} cannot be part of a Telegram username")
            }
            HandleError::MustStartWithLetter => {
                write!(f, "a Telegram username starts with a letter")
            }
            HandleError::EndsWithUnderscore => {
                write!(f, "a Telegram username cannot end with '_'")
            }
            HandleError::NotAUserLink => write!(f, "this t.me link names no user or channel"),
        }
    }
}

impl std::error::Error for HandleError {}

/// Hosts whose first path segment is a Telegram username.
pub(crate) const TELEGRAM_HOSTS: [&str; 4] = ["t.me", "telegram.me", "telegram.dog", "www.t.me"];

/// t.me paths that are features, not usernames.
const RESERVED: [&str; 14] = [
    "joinchat",
    "addstickers",
    "addemoji",
    "addtheme",
    "addlist",
    "share",
    "proxy",
    "socks",
    "iv",
    "login",
    "setlanguage",
    "confirmphone",
    "c",
    "boost",
];

/// Check and lower-case a bare username.
pub fn telegram_username(name: &str) -> Result<String, HandleError> {
    let n = name.chars().count();
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Err(HandleError::BadCharacter(c));
    }
    if !(5..=32).contains(&n) {
        return Err(HandleError::Length(n));
    }
    if !name.as_bytes()[0].is_ascii_alphabetic() {
        return Err(HandleError::MustStartWithLetter);
    }
    if name.ends_with('_') {
        return Err(HandleError::EndsWithUnderscore);
    }
    Ok(name.to_ascii_lowercase())
}

/// The username in the path of a t.me link (path as in the normalised URL, starting with `/`).
pub(crate) fn from_tme_path(path: &str) -> Result<String, HandleError> {
    let mut segs = path.trim_start_matches('/').split('/');
    let mut first = segs.next().unwrap_or("");
    if first == "s" {
        first = segs.next().unwrap_or("");
    }
    if first.starts_with('+') || RESERVED.contains(&first.to_ascii_lowercase().as_str()) {
        return Err(HandleError::NotAUserLink);
    }
    telegram_username(first)
}

/// Normalise a handle typed into a form field: `@name`, `name`, `t.me/name` or a full link.
pub fn parse_handle(field: &str) -> Result<String, HandleError> {
    let cleaned = crate::clean::Cleaned::new(field);
    let s = cleaned.text.trim();
    if let Some(rest) = s.strip_prefix('@') {
        return telegram_username(rest);
    }
    let lower = s.to_ascii_lowercase();
    let no_scheme = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .unwrap_or(&lower);
    for host in TELEGRAM_HOSTS {
        if let Some(path) = no_scheme.strip_prefix(host)
            && path.starts_with('/')
        {
            let path = path.split(['?', '#']).next().unwrap_or("");
            return from_tme_path(path);
        }
    }
    telegram_username(s)
}

/// `@name` mentions in free text. Returns (start, end, username or why it is not one); only
/// mentions that could be meant as handles are returned (not e-mail addresses or `@10`).
pub(crate) fn find(text: &str) -> Vec<(usize, usize, Result<String, HandleError>)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    for (at, _) in text.match_indices('@') {
        let prev = text[..at].chars().next_back();
        if prev.is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '@' | '/')) {
            continue;
        }
        let s = at + 1;
        let mut e = s;
        while e < b.len() && (b[e].is_ascii_alphanumeric() || b[e] == b'_') {
            e += 1;
        }
        if e == s || !b[s].is_ascii_alphabetic() {
            continue;
        }
        let next = text[e..].chars().next();
        let next2 = text[e..].chars().nth(1);
        if next.is_some_and(|c| c.is_alphanumeric() || c == '@')
            || (matches!(next, Some('.' | '-')) && next2.is_some_and(|c| c.is_alphanumeric()))
        {
            continue;
        }
        let name = &text[s..e];
        match telegram_username(name) {
            Ok(h) => out.push((at, e, Ok(h))),
            Err(err @ HandleError::Length(n)) if n > 32 => out.push((at, e, Err(err))),
            Err(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        for s in [
            "@Click_Bonus",
            "click_bonus",
            "t.me/click_bonus",
            "https://t.me/Click_Bonus",
            "https://telegram.me/click_bonus?start=1",
            "http://t.me/s/click_bonus",
        ] {
            assert_eq!(parse_handle(s).unwrap(), "click_bonus", "{s}");
        }
        assert_eq!(parse_handle("@abc"), Err(HandleError::Length(3)));
        assert_eq!(
            parse_handle("@1abcde"),
            Err(HandleError::MustStartWithLetter)
        );
        assert_eq!(
            parse_handle("@abcde_"),
            Err(HandleError::EndsWithUnderscore)
        );
        assert_eq!(
            parse_handle("t.me/joinchat/AAAA"),
            Err(HandleError::NotAUserLink)
        );
        assert_eq!(parse_handle("t.me/+AbCdEf"), Err(HandleError::NotAUserLink));
        assert_eq!(parse_handle("@ab-cd"), Err(HandleError::BadCharacter('-')));
    }
}
