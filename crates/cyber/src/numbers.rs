//! Digit sequences in free text: phone numbers, card numbers, and the dates and amounts that
//! must not be mistaken for either.
//!
//! The text is cut into chains of digit groups joined by short separators (spaces, one `-` or
//! `.`, brackets). A chain is then tiled, by dynamic programming, with whole groups only: a
//! phone, a card, or a date (which covers its digits and yields nothing). The tiling that covers
//! the most digits wins. Because tiles take whole groups and every Uzbek form must be grouped
//! the way people write Uzbek numbers (`90 123 45 67`, `90 1234567`, `901234567`, with `+998`,
//! `998`, `8` or `00998` in front, code boundaries only after the prefix and at positions 2, 5
//! and 7 of the national number), a number from another plan (`8 912 345 67 89`), an amount
//! (`150 000 000 сум`) or an account number does not yield a false Uzbek phone.

use crate::card::{CardKey, CardToken, luhn_valid, network, wipe};
use crate::phone::{Phone, PhoneError, international, uz_from_nsn};

/// The most groups one chain may have; a longer run of numbers is cut into chains this long.
const MAX_GROUPS: usize = 32;
/// The most groups one number may span.
const MAX_TILE_GROUPS: usize = 8;

pub(crate) enum Hit {
    Phone(Phone),
    Card(CardToken),
}

pub(crate) struct Found {
    pub start: usize,
    pub end: usize,
    pub hit: Hit,
}

pub(crate) struct Rejected {
    pub start: usize,
    pub end: usize,
    pub card: bool,
    pub reason: String,
}

#[derive(Clone, Copy)]
struct Group {
    start: usize,
    end: usize,
    tainted: bool,
}

impl Group {
    fn len(&self) -> usize {
        self.end - self.start
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tile {
    Phone,
    Card,
    Date,
}

/// Sorted, non-overlapping byte ranges already taken by other extractors.
pub(crate) struct Claims<'a> {
    spans: &'a [(usize, usize)],
    at: usize,
}

impl<'a> Claims<'a> {
    pub fn new(spans: &'a [(usize, usize)]) -> Self {
        Claims { spans, at: 0 }
    }
    /// The end of the claim containing `pos`, if any. `pos` must not decrease between calls.
    fn covering(&mut self, pos: usize) -> Option<usize> {
        while self.at < self.spans.len() && self.spans[self.at].1 <= pos {
            self.at += 1;
        }
        match self.spans.get(self.at) {
            Some(&(s, e)) if s <= pos => Some(e),
            _ => None,
        }
    }
    /// Whether `[s, e)` overlaps a claim (no state change).
    fn overlaps(&self, s: usize, e: usize) -> bool {
        let i = self.spans.partition_point(|&(_, ce)| ce <= s);
        self.spans.get(i).is_some_and(|&(cs, _)| cs < e)
    }
}

fn char_before(text: &str, pos: usize) -> Option<char> {
    text[..pos].chars().next_back()
}

fn char_after(text: &str, pos: usize) -> Option<char> {
    text[pos..].chars().next()
}

/// May a number start right after what is before `pos`?
fn left_ok(text: &str, pos: usize) -> bool {
    match char_before(text, pos) {
        None => true,
        Some(c) if c.is_alphanumeric() || "_/=#@&%$€£₽\\".contains(c) => false,
        Some(c @ ('-' | '.' | ',')) => {
            !char_before(text, pos - c.len_utf8()).is_some_and(|p| p.is_alphanumeric())
        }
        _ => true,
    }
}

/// May a number end right before what is at `pos`?
fn right_ok(text: &str, pos: usize) -> bool {
    match char_after(text, pos) {
        None => true,
        Some(c) if c.is_alphanumeric() || "_%@\\".contains(c) => false,
        Some(',' | '/' | '.' | '-') => {
            !char_after(text, pos + 1).is_some_and(|p| p.is_ascii_digit())
        }
        _ => true,
    }
}

const CURRENCY_AFTER: [&str; 24] = [
    "сум",
    "сўм",
    "so'm",
    "so‘m",
    "soʻm",
    "som",
    "sum",
    "uzs",
    "руб",
    "rub",
    "₽",
    "$",
    "usd",
    "eur",
    "€",
    "тенге",
    "kzt",
    "ming",
    "тыс",
    "млн",
    "mln",
    "million",
    "млрд",
    "mlrd",
];

const ID_BEFORE: [&str; 21] = [
    "инн",
    "inn",
    "stir",
    "стир",
    "пинфл",
    "pinfl",
    "jshshir",
    "жшшир",
    "паспорт",
    "passport",
    "pasport",
    "счет",
    "счёт",
    "hisob",
    "hisobraqam",
    "id",
    "order",
    "заказ",
    "buyurtma",
    "№",
    "no",
];

/// Words around a bare 9- or 10-digit Uzbek-looking number that say it is an amount or an ID.
fn bad_context(text: &str, start: usize, end: usize) -> bool {
    let after: String = text[end..]
        .trim_start_matches([' ', ')'])
        .chars()
        .take(8)
        .flat_map(char::to_lowercase)
        .collect();
    if CURRENCY_AFTER.iter().any(|w| after.starts_with(w)) {
        return true;
    }
    let before = text[..start].trim_end_matches([' ', ':', '.', '#', '-', '(', '+']);
    if before.ends_with(['$', '€', '₽', '№']) {
        return true;
    }
    let word: String = before
        .chars()
        .rev()
        .take_while(|c| c.is_alphabetic())
        .take(16)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .flat_map(char::to_lowercase)
        .collect();
    ID_BEFORE.contains(&word.as_str())
}

struct Chain<'t> {
    text: &'t str,
    groups: Vec<Group>,
    /// `+` right before the first group (possibly `+(`).
    plus: bool,
    /// Offset where the first group's lead-in (`+`, `(`, `+(`) starts.
    lead: usize,
}

impl Chain<'_> {
    fn sep(&self, k: usize) -> &str {
        &self.text[self.groups[k].end..self.groups[k + 1].start]
    }

    fn digits(&self, a: usize, b: usize, buf: &mut Vec<u8>) {
        buf.clear();
        for g in &self.groups[a..b] {
            buf.extend_from_slice(&self.text.as_bytes()[g.start..g.end]);
        }
    }

    /// Group boundaries (digit offsets from the start of group `a`) inside groups `a..b`.
    fn boundaries(&self, a: usize, b: usize) -> impl Iterator<Item = usize> + '_ {
        let mut acc = 0;
        self.groups[a..b - 1].iter().map(move |g| {
            acc += g.len();
            acc
        })
    }

    /// Uzbek grouping rule: no break inside the `prefix` digits, breaks in the 9-digit national
    /// number only where people break it.
    fn uz_grouping_ok(&self, a: usize, b: usize, prefix: usize, extra: &[usize]) -> bool {
        self.boundaries(a, b).all(|x| {
            (prefix > 0 && x == prefix)
                || extra.contains(&x)
                || (x > prefix && [2, 5, 7].contains(&(x - prefix)))
        })
    }

    fn span(&self, a: usize, b: usize) -> (usize, usize) {
        let mut s = self.groups[a].start;
        if a == 0 {
            s = self.lead;
        } else if self.sep(a - 1).ends_with('(') {
            s -= 1;
        }
        let mut e = self.groups[b - 1].end;
        let inside = &self.text[s..e];
        if inside.matches('(').count() > inside.matches(')').count()
            && self.text.as_bytes().get(e) == Some(&b')')
        {
            e += 1;
        }
        (s, e)
    }

    fn is_date(&self, a: usize, b: usize) -> bool {
        if b - a != 3 {
            return false;
        }
        let s1 = self.sep(a);
        let s2 = self.sep(a + 1);
        if s1 != s2 || !matches!(s1, "." | "/" | "-") {
            return false;
        }
        let v = |k: usize| {
            let g = self.groups[k];
            self.text[g.start..g.end].parse::<u32>().unwrap_or(0)
        };
        let l = |k: usize| self.groups[k].len();
        let (d, m, y) = if l(a) == 4 {
            (v(a + 2), v(a + 1), l(a))
        } else {
            (v(a), v(a + 1), l(a + 2))
        };
        let dm_ok = (1..=31).contains(&d) && (1..=12).contains(&m)
            || (1..=12).contains(&d) && (1..=31).contains(&m);
        dm_ok && (y == 2 || y == 4) && l(a + 1) <= 2
    }

    fn card_grouping(&self, a: usize, b: usize) -> bool {
        if b - a == 1 {
            return true;
        }
        let seps: Vec<&str> = (a..b - 1).map(|k| self.sep(k)).collect();
        if !(seps[0] == " " || seps[0] == "-") || seps.iter().any(|s| *s != seps[0]) {
            return false;
        }
        let lens: Vec<usize> = self.groups[a..b].iter().map(Group::len).collect();
        let all4 = lens[..lens.len() - 1].iter().all(|&l| l == 4) && lens[lens.len() - 1] <= 4;
        all4 || lens == [4, 6, 5] || lens == [4, 6, 4]
    }

    /// The phone a tile `a..b` would be, if any.
    fn phone(&self, a: usize, b: usize, d: &[u8]) -> Option<Result<Phone, PhoneError>> {
        let plus = a == 0 && self.plus;
        if plus {
            if d.starts_with(b"998") {
                if !self.uz_grouping_ok(a, b, 3, &[]) {
                    return None;
                }
            } else {
                let (_, cc_len) = crate::phone::country_code(d)?;
                if self.boundaries(a, b).any(|x| x < cc_len) {
                    return None;
                }
            }
            return Some(international(d));
        }
        let (prefix, extra): (usize, &[usize]) = match d.len() {
            14 if d.starts_with(b"00998") => (5, &[2]),
            12 if d.starts_with(b"998") => (3, &[]),
            10 if d[0] == b'8' => (1, &[]),
            9 => (0, &[]),
            _ => return None,
        };
        if !self.uz_grouping_ok(a, b, prefix, extra) {
            return None;
        }
        if prefix <= 1 {
            let (s, e) = self.span(a, b);
            if bad_context(self.text, s, e) {
                return None;
            }
        }
        Some(uz_from_nsn(&d[prefix..]))
    }
}

/// Scan the cleaned text for phones and cards outside the claimed spans.
pub(crate) fn scan(
    text: &str,
    key: &CardKey,
    claims: &[(usize, usize)],
    found: &mut Vec<Found>,
    rejected: &mut Vec<Rejected>,
) {
    let b = text.as_bytes();
    let n = b.len();
    let mut claims_cur = Claims::new(claims);
    let mut i = 0;
    while i < n {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        if let Some(e) = claims_cur.covering(i) {
            i = e.max(i + 1);
            continue;
        }
        // a chain starts at i
        let mut groups = Vec::new();
        let mut j = i;
        loop {
            let gs = j;
            while j < n && b[j].is_ascii_digit() {
                j += 1;
            }
            groups.push(Group {
                start: gs,
                end: j,
                tainted: false,
            });
            if groups.len() >= MAX_GROUPS {
                break;
            }
            let (mut k, mut spaces, mut dd, mut open, mut close) = (j, 0, 0, 0, 0);
            while k < n && k - j < 4 {
                match b[k] {
                    b' ' => spaces += 1,
                    b'-' | b'.' => dd += 1,
                    b'(' => open += 1,
                    b')' => close += 1,
                    _ => break,
                }
                k += 1;
            }
            if k > j
                && k < n
                && b[k].is_ascii_digit()
                && spaces <= 2
                && dd <= 1
                && open <= 1
                && close <= 1
                && !claims_cur.overlaps(j, k + 1)
            {
                j = k;
                continue;
            }
            break;
        }
        // lead-in and boundaries
        let first = groups[0].start;
        let mut lead = first;
        let mut plus = false;
        if first > 0 && b[first - 1] == b'(' {
            lead = first - 1;
        }
        if lead > 0 && b[lead - 1] == b'+' {
            lead -= 1;
            plus = true;
        } else if lead > 1 && b[lead - 1] == b' ' && b[lead - 2] == b'+' && lead == first {
            // "+ 998 ..."
            lead -= 2;
            plus = true;
        }
        if !left_ok(text, lead) {
            groups[0].tainted = true;
        }
        let last = groups.len() - 1;
        if !right_ok(text, groups[last].end) {
            groups[last].tainted = true;
        }
        let chain = Chain {
            text,
            groups,
            plus,
            lead,
        };
        tile(&chain, key, found, rejected);
        i = j;
    }
}

fn tile(chain: &Chain, key: &CardKey, found: &mut Vec<Found>, rejected: &mut Vec<Rejected>) {
    let g = &chain.groups;
    let n = g.len();
    // best[i] = (digits covered, -tiles) for groups i..n, and the choice made at i
    let mut best: Vec<(usize, i64)> = vec![(0, 0); n + 1];
    let mut choice: Vec<Option<(usize, Tile)>> = vec![None; n + 1];
    let mut buf = Vec::with_capacity(24);
    for a in (0..n).rev() {
        best[a] = best[a + 1];
        choice[a] = None;
        if g[a].tainted {
            continue;
        }
        let mut digits = 0;
        for b in a + 1..=(a + MAX_TILE_GROUPS).min(n) {
            if g[b - 1].tainted {
                break;
            }
            digits += g[b - 1].len();
            if digits > 19 {
                break;
            }
            chain.digits(a, b, &mut buf);
            let mut kind = None;
            if !(a == 0 && chain.plus)
                && (13..=19).contains(&digits)
                && chain.card_grouping(a, b)
                && network(&buf).is_some()
                && luhn_valid(&buf)
            {
                kind = Some(Tile::Card);
            } else if let Some(Ok(_)) = chain.phone(a, b, &buf) {
                kind = Some(Tile::Phone);
            } else if chain.is_date(a, b) {
                kind = Some(Tile::Date);
            }
            if let Some(k) = kind {
                let cand = (digits + best[b].0, best[b].1 - 1);
                if cand > best[a] {
                    best[a] = cand;
                    choice[a] = Some((b, k));
                }
            }
        }
    }
    wipe(&mut buf);
    // the tiling, and which groups it covers
    let mut tiles = Vec::new();
    let mut covered = vec![false; n];
    let mut a = 0;
    while a < n {
        match choice[a] {
            Some((b, kind)) => {
                tiles.push((a, b, kind));
                covered[a..b].iter_mut().for_each(|c| *c = true);
                a = b;
            }
            None => a += 1,
        }
    }
    // A number that runs straight on into an untaken group of two or more digits written the
    // same way ("90 123 45 67 89", "4111 1111 1111 1111 1234") is part of something longer:
    // not taken. (A one-digit neighbour is a list number or a count: "1. 90 123 45 67".)
    let same_style = |inner: Option<&str>, outer: &str| match inner {
        Some(s) => s == outer,
        None => outer == "-" || outer == ".",
    };
    let mut next_tile = 0;
    let mut untiled_from: Option<usize> = None;
    let mut a = 0;
    while a <= n {
        let tile_here = tiles.get(next_tile).filter(|t| t.0 == a).copied();
        match tile_here {
            Some((_, b, kind)) => {
                next_tile += 1;
                if let Some(u) = untiled_from.take() {
                    reject_run(chain, u, a, rejected);
                }
                let first_sep = (b - a > 1).then(|| chain.sep(a));
                let last_sep = (b - a > 1).then(|| chain.sep(b - 2));
                let junk = |k: usize| !covered[k] && g[k].len() >= 2;
                let runs_on = (a > 0 && junk(a - 1) && same_style(first_sep, chain.sep(a - 1)))
                    || (b < n && junk(b) && same_style(last_sep, chain.sep(b - 1)));
                if kind != Tile::Date && !runs_on {
                    let (s, e) = chain.span(a, b);
                    chain.digits(a, b, &mut buf);
                    let hit = match kind {
                        Tile::Card => CardToken::from_pan(&buf, key).ok().map(Hit::Card),
                        Tile::Phone => match chain.phone(a, b, &buf) {
                            Some(Ok(p)) => Some(Hit::Phone(p)),
                            _ => None,
                        },
                        Tile::Date => None,
                    };
                    wipe(&mut buf);
                    if let Some(hit) = hit {
                        found.push(Found {
                            start: s,
                            end: e,
                            hit,
                        });
                    }
                }
                a = b;
            }
            None => {
                if a < n && !g[a].tainted {
                    untiled_from.get_or_insert(a);
                } else if let Some(u) = untiled_from.take() {
                    reject_run(chain, u, a, rejected);
                }
                a += 1;
            }
        }
    }
}

/// Say why a run of groups that looks like a number was not taken.
fn reject_run(chain: &Chain, a: usize, b: usize, rejected: &mut Vec<Rejected>) {
    let mut d = Vec::with_capacity(24);
    let total: usize = chain.groups[a..b].iter().map(Group::len).sum();
    if total > 24 {
        return;
    }
    chain.digits(a, b, &mut d);
    let (s, e) = chain.span(a, b);
    let mut reason = None;
    let mut card = false;
    if a == 0 && chain.plus && total >= 7 {
        if let Some(Err(err)) = chain.phone(a, b, &d) {
            reason = Some(err.to_string());
        } else if crate::phone::country_code(&d).is_none() {
            reason = Some(PhoneError::UnknownCountryCode.to_string());
        }
    } else if (13..=19).contains(&total)
        && chain.card_grouping(a, b)
        && (b - a > 1 || total == 16)
        && network(&d).is_some()
        && !luhn_valid(&d)
    {
        card = true;
        reason = Some(crate::card::CardError::Luhn.to_string());
    } else if ((total == 12 && d.starts_with(b"998"))
        || (total == 9 && chain.groups[a..b].iter().map(Group::len).eq([2, 3, 2, 2])))
        && let Some(Err(err)) = chain.phone(a, b, &d)
    {
        reason = Some(err.to_string());
    }
    wipe(&mut d);
    if let Some(reason) = reason {
        rejected.push(Rejected {
            start: s,
            end: e,
            card,
            reason,
        });
    }
}
