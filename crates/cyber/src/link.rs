//! Links and domains.
//!
//! Normal form of a link: `scheme://host[:port]/path[?query]` where
//! - the scheme is `http` or `https`, lower case (`http` when the text gave none);
//! - the host is lower case ASCII, internationalised labels in punycode (UTS #46 via `idna`),
//!   without a trailing dot; IPv4 hosts (also in decimal `http://3232235777/` form) canonical;
//! - user info (`paypal.com@evil.com`) is dropped and flagged; a default port is dropped;
//! - the path has dot segments removed, percent escapes upper-cased, escapes of unreserved
//!   characters decoded and everything else outside printable ASCII percent-encoded; `/` when
//!   empty;
//! - tracking parameters (`utm_*`, `fbclid`, `gclid`, `yclid`, ...: [`is_tracking_param`]) are
//!   dropped from the query, the rest keep their order;
//! - the fragment is dropped (it never reaches the server, so it names no different site).
//!
//! The registrable domain ("eTLD+1") comes from the Public Suffix List compiled into the `psl`
//! crate (works offline).

use crate::Suspicion;
use crate::script::label_scripts;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The longest link extracted or accepted, in bytes.
pub const MAX_LINK_BYTES: usize = 4096;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkError {
    Empty,
    TooLong(usize),
    UnsupportedScheme(String),
    BadHost(String),
    BadPort(String),
    /// A bare name whose last label is no public suffix (not a domain on the internet).
    UnknownSuffix(String),
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::Empty => write!(f, "no link"),
            LinkError::TooLong(n) => {
                write!(
                    f,
                    "a link of {n} bytes is longer than the {MAX_LINK_BYTES} accepted"
                )
            }
            LinkError::UnsupportedScheme(s) => {
                write!(f, "only http and https links are taken, not {s:?}")
            }
            LinkError::BadHost(h) => write!(f, "{h:?} is not a valid host name"),
            LinkError::BadPort(p) => write!(f, "{p:?} is not a valid port"),
            LinkError::UnknownSuffix(h) => write!(
                f,
                "{h:?} does not end in a public suffix (.uz, .com, .рф, ...)"
            ),
        }
    }
}

impl std::error::Error for LinkError {}

/// A normalised link or domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NormalizedLink {
    /// The full normal form, or `None` for a bare domain.
    pub url: Option<String>,
    /// ASCII (punycode) lower-case host.
    pub host: String,
    /// eTLD+1 by the Public Suffix List; `None` for IP hosts and unknown suffixes.
    pub registrable_domain: Option<String>,
    /// The path (normalised, starting with `/`), empty for a bare domain.
    pub path: String,
    pub suspicious: Vec<Suspicion>,
}

/// Query parameters that track the click rather than name the page.
pub fn is_tracking_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("utm_")
        || n.starts_with("_hs")
        || n.starts_with("fb_")
        || n.starts_with("oly_")
        || n.starts_with("vero_")
        || matches!(
            n.as_str(),
            "fbclid"
                | "gclid"
                | "gclsrc"
                | "dclid"
                | "gbraid"
                | "wbraid"
                | "yclid"
                | "ysclid"
                | "msclkid"
                | "twclid"
                | "ttclid"
                | "igshid"
                | "igsh"
                | "mc_cid"
                | "mc_eid"
                | "mkt_tok"
                | "li_fat_id"
                | "epik"
                | "s_cid"
                | "rb_clickid"
                | "irclickid"
                | "_ga"
                | "_gl"
                | "_openstat"
                | "ref_src"
                | "ref_url"
                | "spm"
                | "si"
                | "srsltid"
                | "__s"
        )
}

fn push_suspicion(v: &mut Vec<Suspicion>, s: Suspicion) {
    if !v.contains(&s) {
        v.push(s);
    }
}

/// Normalise a host name; pushes what looks wrong about it onto `sus`.
pub(crate) fn normalize_host(raw: &str, sus: &mut Vec<Suspicion>) -> Result<String, LinkError> {
    let bad = || LinkError::BadHost(raw.chars().take(80).collect());
    let h = raw.strip_suffix('.').unwrap_or(raw);
    if h.is_empty() || h.len() > 1024 {
        return Err(bad());
    }
    if let Some(inner) = h.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        let ip: Ipv6Addr = inner.parse().map_err(|_| bad())?;
        push_suspicion(sus, Suspicion::IpAddressHost);
        return Ok(format!("[{ip}]"));
    }
    if h.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let ip = if h.contains('.') {
            h.parse::<Ipv4Addr>().map_err(|_| bad())?
        } else {
            // http://3232235777/ is 192.168.1.1 to a browser
            Ipv4Addr::from(h.parse::<u32>().map_err(|_| bad())?)
        };
        push_suspicion(sus, Suspicion::IpAddressHost);
        return Ok(ip.to_string());
    }
    let ascii = idna::domain_to_ascii(h).map_err(|_| bad())?;
    if ascii.len() > 253 {
        return Err(bad());
    }
    let labels: Vec<&str> = ascii.split('.').collect();
    for l in &labels {
        if l.is_empty()
            || l.len() > 63
            || !l
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return Err(bad());
        }
    }
    if ascii.contains("xn--") {
        let (unicode, _) = idna::domain_to_unicode(&ascii);
        let ulabels: Vec<&str> = unicode.split('.').collect();
        let tld_ascii = labels.last().is_some_and(|t| !t.starts_with("xn--"));
        for (i, l) in ulabels.iter().enumerate() {
            let (mixed, whole) = label_scripts(l);
            if mixed {
                push_suspicion(sus, Suspicion::MixedScript);
            }
            if whole && tld_ascii && i + 1 < ulabels.len() {
                push_suspicion(sus, Suspicion::WholeScriptConfusable);
            }
        }
    }
    Ok(ascii)
}

/// eTLD+1 of an ASCII host, when its suffix is in the Public Suffix List.
pub fn registrable_domain(ascii_host: &str) -> Option<String> {
    let suffix = psl::suffix(ascii_host.as_bytes())?;
    if !suffix.is_known() {
        return None;
    }
    psl::domain_str(ascii_host).map(str::to_string)
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn hexval(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|v| v as u8)
}

/// Percent-normalise a path or query component.
fn normalize_component(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            if let (Some(h), Some(l)) = (
                b.get(i + 1).copied().and_then(hexval),
                b.get(i + 2).copied().and_then(hexval),
            ) {
                let v = h * 16 + l;
                if is_unreserved(v) {
                    out.push(v as char);
                } else {
                    out.push_str(&format!("%{v:02X}"));
                }
                i += 3;
                continue;
            }
            out.push_str("%25");
        } else if c.is_ascii_graphic()
            && !matches!(
                c,
                b'"' | b'<' | b'>' | b'`' | b'{' | b'}' | b'|' | b'\\' | b'^'
            )
        {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
        i += 1;
    }
    out
}

fn remove_dot_segments(path: &str) -> String {
    let segs: Vec<&str> = path.split('/').collect();
    let mut out: Vec<&str> = Vec::with_capacity(segs.len());
    let n = segs.len();
    for (i, seg) in segs.iter().enumerate().skip(1) {
        let last = i + 1 == n;
        match *seg {
            "." => {
                if last {
                    out.push("");
                }
            }
            ".." => {
                out.pop();
                if last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    let mut p = String::with_capacity(path.len());
    for s in out {
        p.push('/');
        p.push_str(s);
    }
    if p.is_empty() {
        p.push('/');
    }
    p
}

fn normalize_query(q: &str) -> String {
    let kept: Vec<String> = q
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            let name = p.split('=').next().unwrap_or("");
            !is_tracking_param(&normalize_component(name))
        })
        .map(normalize_component)
        .collect();
    if kept.is_empty() {
        String::new()
    } else {
        format!("?{}", kept.join("&"))
    }
}

fn host_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '.' | '_' | '[' | ']' | ':') || is_mark(c)
}

fn is_mark(c: char) -> bool {
    // combining marks used in IDN labels (Devanagari, Arabic vowel signs, ...)
    matches!(c as u32, 0x0300..=0x036F | 0x0483..=0x0489 | 0x0591..=0x05BD | 0x0610..=0x061A | 0x064B..=0x065F | 0x0900..=0x0903 | 0x093A..=0x094F)
}

/// Parse and normalise a link. `raw` may run on past the link's end (the rest of a token in
/// free text): the link ends where its host name can no longer continue (if no path follows)
/// or at the end of `raw`. Returns the link and the number of bytes of `raw` it used.
pub(crate) fn normalize_url(
    raw: &str,
    require_known_suffix: bool,
) -> Result<(NormalizedLink, usize), LinkError> {
    if raw.len() > MAX_LINK_BYTES {
        return Err(LinkError::TooLong(raw.len()));
    }
    let mut sus = Vec::new();
    let (scheme, rest_at) = match raw.find("://") {
        Some(p)
            if p > 0
                && p <= 10
                && raw[..p]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')) =>
        {
            let s = raw[..p].to_ascii_lowercase();
            if s != "http" && s != "https" {
                return Err(LinkError::UnsupportedScheme(s));
            }
            (s, p + 3)
        }
        _ => ("http".to_string(), 0),
    };
    let rest = &raw[rest_at..];
    // The authority ends at the first '/', '?', '#' or '\' (browsers read '\' as '/'), or
    // at the first character that cannot be in an authority.
    let mut auth_end = rest.len();
    for (i, c) in rest.char_indices() {
        if matches!(c, '/' | '?' | '#' | '\\') {
            auth_end = i;
            break;
        }
        if !(host_char(c)
            || c == '@'
            || c == '%'
            || c == '!'
            || c == '$'
            || c == '&'
            || c == '\''
            || c == '*'
            || c == '+'
            || c == ','
            || c == ';'
            || c == '='
            || c == '~'
            || c == '('
            || c == ')')
        {
            auth_end = i;
            break;
        }
    }
    let mut authority = &rest[..auth_end];
    if let Some(at) = authority.rfind('@') {
        push_suspicion(&mut sus, Suspicion::UserInfoInUrl);
        authority = &authority[at + 1..];
    }
    let auth_start = rest_at + (auth_end - authority.len());
    // Cut the host where host characters stop; that is where the link ends unless a path
    // follows right after.
    let host_len = authority
        .char_indices()
        .find(|&(_, c)| !host_char(c))
        .map_or(authority.len(), |(i, _)| i);
    let hostport = &authority[..host_len];
    let (host_raw, port) = if hostport.starts_with('[') {
        match hostport.find(']') {
            Some(e) => (&hostport[..=e], hostport[e + 1..].strip_prefix(':')),
            None => return Err(LinkError::BadHost(hostport.into())),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    let host = normalize_host(host_raw, &mut sus)?;
    let port = match port {
        None | Some("") => String::new(),
        Some(p) => {
            let n: u16 = p
                .parse()
                .ok()
                .filter(|_| p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| LinkError::BadPort(p.into()))?;
            if (scheme == "http" && n == 80) || (scheme == "https" && n == 443) {
                String::new()
            } else {
                format!(":{n}")
            }
        }
    };
    let registrable = registrable_domain(&host);
    if require_known_suffix && registrable.is_none() {
        return Err(LinkError::UnknownSuffix(host));
    }
    let tail = if host_len == authority.len() && auth_end < rest.len() {
        &raw[rest_at + auth_end..]
    } else {
        ""
    };
    let consumed = if tail.is_empty() {
        auth_start + host_len
    } else {
        raw.len()
    };
    let tail = tail.replace('\\', "/");
    let (before_frag, _fragment) = tail.split_once('#').unwrap_or((&tail, ""));
    let (path, query) = before_frag.split_once('?').unwrap_or((before_frag, ""));
    let path = remove_dot_segments(&normalize_component(if path.is_empty() {
        "/"
    } else {
        path
    }));
    let query = normalize_query(query);
    let has_url = rest_at > 0 || !tail.is_empty() || !port.is_empty();
    let url = has_url.then(|| format!("{scheme}://{host}{port}{path}{query}"));
    Ok((
        NormalizedLink {
            url,
            host,
            registrable_domain: registrable,
            path: if has_url { path } else { String::new() },
            suspicious: sus,
        },
        consumed,
    ))
}

/// Normalise a link or domain typed into a form field.
pub fn parse_link(field: &str) -> Result<NormalizedLink, LinkError> {
    let cleaned = crate::clean::Cleaned::new(field);
    let s = cleaned.text.trim();
    if s.is_empty() {
        return Err(LinkError::Empty);
    }
    let has_scheme = match s.find("://") {
        Some(p) => {
            let scheme = &s[..p];
            if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
                return Err(LinkError::UnsupportedScheme(
                    scheme.chars().take(20).collect(),
                ));
            }
            true
        }
        None => false,
    };
    let (mut link, used) = normalize_url(s, !has_scheme)?;
    // a field holds one link and nothing else
    if used != s.len() {
        return Err(LinkError::BadHost(s.chars().take(80).collect()));
    }
    let flags = cleaned.flags_in(0, cleaned.text.len());
    for sflag in Suspicion::from_flags(flags) {
        push_suspicion(&mut link.suspicious, sflag);
    }
    Ok(link)
}

/// Trailing characters that end a sentence rather than a link. Linear in `s`.
fn trim_trailing(s: &str) -> &str {
    let opens = (s.matches('(').count(), s.matches('[').count());
    let mut closes = (s.matches(')').count(), s.matches(']').count());
    let mut s = s;
    loop {
        let Some(c) = s.chars().next_back() else {
            return s;
        };
        let strip = match c {
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '"' | '»' | '”' | '’' | '…' | '>' | '*'
            | '}' => true,
            ')' => opens.0 < closes.0,
            ']' => opens.1 < closes.1,
            _ => false,
        };
        if !strip {
            return s;
        }
        match c {
            ')' => closes.0 -= 1,
            ']' => closes.1 -= 1,
            _ => {}
        }
        s = &s[..s.len() - c.len_utf8()];
    }
}

/// How a link candidate was found in free text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// `http://` or `https://`
    Scheme,
    /// `www.` without scheme
    Www,
    /// a bare `name.tld`, possibly with a path
    Bare,
}

/// A link or domain candidate in the cleaned text: byte range, how it was found, and the
/// normalised result (or why it failed, for candidates with a scheme).
pub(crate) struct Candidate {
    pub start: usize,
    pub end: usize,
    pub found: Found,
    pub result: Result<NormalizedLink, LinkError>,
}

fn token_char(c: char) -> bool {
    !(c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '<' | '>' | '"' | '`' | '«' | '»' | '“' | '”' | '„' | '‹' | '›' | '|'
        ))
}

/// Short words that start a sentence and are also top-level domains: `here.It` is a missing
/// space, not a link.
const SENTENCE_TLDS: [&str; 24] = [
    "it", "in", "is", "at", "be", "me", "no", "so", "do", "to", "my", "us", "am", "an", "as", "by",
    "we", "or", "on", "io", "va", "biz", "ai", "tv",
];

/// File extensions that are also top-level domains: `report.zip` is a file name.
const FILE_TLDS: [&str; 6] = ["zip", "mov", "md", "py", "sh", "rs"];

fn plausible_bare(host: &str) -> bool {
    let Some((_, tld)) = host.rsplit_once('.') else {
        return false;
    };
    if tld.chars().count() < 2 || !tld.chars().all(char::is_alphabetic) {
        return false;
    }
    let lower = tld.to_lowercase();
    let capitalised = tld.chars().next().is_some_and(char::is_uppercase);
    let all_upper = host.chars().all(|c| !c.is_lowercase());
    if capitalised && !all_upper && SENTENCE_TLDS.contains(&lower.as_str()) {
        return false;
    }
    if FILE_TLDS.contains(&lower.as_str()) {
        return false;
    }
    host.split('.').all(|l| !l.is_empty())
}

/// Find link and domain candidates in cleaned text. Linear in the text.
pub(crate) fn find(text: &str) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut i = 0;
    let len = text.len();
    while i < len {
        // next token
        let Some((ts, _)) = text[i..].char_indices().find(|&(_, c)| token_char(c)) else {
            break;
        };
        let ts = i + ts;
        let te = text[ts..]
            .char_indices()
            .find(|&(_, c)| !token_char(c))
            .map_or(len, |(j, _)| ts + j);
        scan_token(text, ts, te, &mut out);
        i = te;
    }
    out
}

fn scan_token(text: &str, ts: usize, te: usize, out: &mut Vec<Candidate>) {
    let mut pos = ts;
    while pos < te {
        let tok = &text[pos..te];
        // a scheme link: from the scheme to where it can no longer continue
        let Some(p) = tok.find("://") else {
            break;
        };
        let s = tok[..p]
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphabetic())
            .last()
            .map_or(p, |(j, _)| j);
        let scheme = &tok[s..p];
        if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
            break;
        }
        // anything before the scheme in the same token is scanned on its own
        if s > 0 {
            scan_bare(text, pos, pos + s, out);
        }
        let start = pos + s;
        if tok.len() - s > 2 * MAX_LINK_BYTES {
            // the rest of the token is this link's path: far too long to be one
            out.push(Candidate {
                start,
                end: te,
                found: Found::Scheme,
                result: Err(LinkError::TooLong(tok.len() - s)),
            });
            return;
        }
        let raw = trim_trailing(&tok[s..]);
        let r = if raw.len() > MAX_LINK_BYTES {
            Err(LinkError::TooLong(raw.len()))
        } else {
            normalize_url(raw, false)
        };
        let end = match &r {
            Ok((_, used)) => start + trim_trailing(&raw[..*used]).len(),
            Err(_) => start + raw.len(),
        };
        out.push(Candidate {
            start,
            end,
            found: Found::Scheme,
            result: r.map(|(l, _)| l),
        });
        let min_next = pos + p + 3;
        pos = end.max(min_next);
        if pos >= te || end == start + raw.len() {
            return;
        }
    }
    if pos < te {
        scan_bare(text, pos, te, out);
    }
}

/// Host-like runs in a token: `name.tld`, `www.name.tld`, possibly followed by a path.
fn scan_bare(text: &str, ts: usize, te: usize, out: &mut Vec<Candidate>) {
    let tok = &text[ts..te];
    let run_char = |c: char| c.is_alphanumeric() || matches!(c, '-' | '.' | '_') || is_mark(c);
    let mut j = 0;
    while j < tok.len() {
        let Some((rs, _)) = tok[j..].char_indices().find(|&(_, c)| run_char(c)) else {
            return;
        };
        let rs = j + rs;
        let re = tok[rs..]
            .char_indices()
            .find(|&(_, c)| !run_char(c))
            .map_or(tok.len(), |(k, _)| rs + k);
        j = re;
        let run = &tok[rs..re];
        let lead = run.len() - run.trim_start_matches(['.', '-', '_']).len();
        let run = run
            .trim_start_matches(['.', '-', '_'])
            .trim_end_matches(['.', '-', '_']);
        let hs = rs + lead;
        let he = hs + run.len();
        if !run.contains('.') || run.len() > 253 {
            continue;
        }
        let before = tok[..hs].chars().next_back();
        let after = tok[he..].chars().next();
        // e-mail addresses: neither the local part nor the domain is a link
        if before == Some('@') || after == Some('@') {
            continue;
        }
        let www = run.len() > 4 && run.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("www."));
        if !www && !plausible_bare(run) {
            continue;
        }
        // a path, query or port right after the host makes it a link
        let continues = matches!(after, Some('/' | '?' | '#'))
            || (after == Some(':')
                && tok[he + 1..]
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_digit()));
        let raw_end = if continues { te - ts } else { he };
        if raw_end - hs > 2 * MAX_LINK_BYTES {
            // every later run of this token is inside this over-long path
            return;
        }
        let raw = trim_trailing(&tok[hs..raw_end]);
        if raw.len() > MAX_LINK_BYTES {
            return;
        }
        let found = if www { Found::Www } else { Found::Bare };
        match normalize_url(raw, true) {
            Ok((link, used)) => {
                let end = ts + hs + trim_trailing(&raw[..used]).len();
                out.push(Candidate {
                    start: ts + hs,
                    end,
                    found,
                    result: Ok(link),
                });
                if continues {
                    return;
                }
            }
            Err(_) => continue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> String {
        parse_link(s).unwrap().url.unwrap()
    }

    #[test]
    fn normal_forms() {
        assert_eq!(
            url("HTTPS://Example.COM:443/a/./b/../c?utm_source=x&id=5&fbclid=abc#frag"),
            "https://example.com/a/c?id=5"
        );
        assert_eq!(url("http://example.com"), "http://example.com/");
        assert_eq!(
            url("http://пример.рф/путь"),
            "http://xn--e1afmkfd.xn--p1ai/%D0%BF%D1%83%D1%82%D1%8C"
        );
        assert_eq!(url("https://x.uz/%7euser/%2f"), "https://x.uz/~user/%2F");
        assert_eq!(url("https://x.uz:8443/"), "https://x.uz:8443/");
        assert_eq!(url("hxxps://evil[.]uz/login"), "https://evil.uz/login");
        let d = parse_link("Sub.Paynet-Bonus.UZ").unwrap();
        assert_eq!((d.url, d.host.as_str()), (None, "sub.paynet-bonus.uz"));
        assert_eq!(d.registrable_domain.as_deref(), Some("paynet-bonus.uz"));
    }

    #[test]
    fn tricks_are_flagged() {
        let l = parse_link("http://paypal.com@evil.com/x").unwrap();
        assert_eq!(l.host, "evil.com");
        assert!(l.suspicious.contains(&Suspicion::UserInfoInUrl));
        let l = parse_link("https://раураl.com/").unwrap(); // Cyrillic р, а, у + Latin l
        assert!(l.suspicious.contains(&Suspicion::MixedScript), "{l:?}");
        let l = parse_link("https://аррӏе.com/").unwrap();
        assert!(
            l.suspicious.contains(&Suspicion::WholeScriptConfusable),
            "{l:?}"
        );
        let l = parse_link("https://xn--80ak6aa92e.com/").unwrap();
        assert!(
            l.suspicious.contains(&Suspicion::WholeScriptConfusable),
            "{l:?}"
        );
        let l = parse_link("http://3232235777/").unwrap();
        assert_eq!(l.host, "192.168.1.1");
        assert!(l.suspicious.contains(&Suspicion::IpAddressHost));
        let l = parse_link("https://pay\u{200B}me.uz").unwrap();
        assert_eq!(l.host, "payme.uz");
        assert!(l.suspicious.contains(&Suspicion::InvisibleCharacter));
        let l = parse_link("https://\u{202E}zu.emyap").unwrap();
        assert!(l.suspicious.contains(&Suspicion::BidiControl));
    }

    #[test]
    fn errors() {
        assert!(matches!(
            parse_link("ftp://x.uz"),
            Err(LinkError::UnsupportedScheme(_))
        ));
        assert!(matches!(
            parse_link("notadomain"),
            Err(LinkError::UnknownSuffix(_))
        ));
        assert!(matches!(
            parse_link("http://a..b/"),
            Err(LinkError::BadHost(_))
        ));
        assert!(matches!(
            parse_link("http://x.uz:99999/"),
            Err(LinkError::BadPort(_))
        ));
        assert!(matches!(parse_link(""), Err(LinkError::Empty)));
    }

    #[test]
    fn trailing_punctuation() {
        assert_eq!(trim_trailing("http://x.uz/a)."), "http://x.uz/a");
        assert_eq!(
            trim_trailing("http://x.uz/wiki/A_(b)"),
            "http://x.uz/wiki/A_(b)"
        );
    }
}
