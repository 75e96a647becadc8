//! IBANs (ISO 13616): country, length for that country, mod-97 check. Uzbekistan has no IBAN;
//! foreign ones (Russia, Kazakhstan, Turkey, the Gulf, Europe) appear in reports.

use std::fmt;

/// IBAN lengths by country, from the SWIFT IBAN Registry (2024 releases), countries with a full
/// IBAN only. Sorted for binary search.
const LENGTHS: &[(&[u8; 2], u8)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BI", 27),
    (b"BR", 29),
    (b"BY", 28),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DJ", 27),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FK", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GI", 23),
    (b"GL", 18),
    (b"GR", 27),
    (b"GT", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IQ", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LC", 32),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"LY", 25),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MK", 19),
    (b"MN", 20),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NI", 28),
    (b"NL", 18),
    (b"NO", 15),
    (b"OM", 23),
    (b"PK", 24),
    (b"PL", 28),
    (b"PS", 29),
    (b"PT", 25),
    (b"QA", 29),
    (b"RO", 24),
    (b"RS", 22),
    (b"RU", 33),
    (b"SA", 24),
    (b"SC", 31),
    (b"SD", 18),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"SO", 23),
    (b"ST", 25),
    (b"SV", 28),
    (b"TL", 23),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VA", 22),
    (b"VG", 24),
    (b"XK", 20),
    (b"YE", 30),
];

/// The IBAN length of a country (upper-case ISO code), if it has IBANs.
pub fn iban_length(country: &[u8]) -> Option<usize> {
    if country.len() != 2 {
        return None;
    }
    LENGTHS
        .binary_search_by(|(c, _)| c[..].cmp(country))
        .ok()
        .map(|i| usize::from(LENGTHS[i].1))
}

/// ISO 7064 mod 97-10 over an upper-case alphanumeric IBAN: true when the remainder is 1.
pub fn mod97_valid(iban: &[u8]) -> bool {
    if iban.len() < 5 {
        return false;
    }
    let mut r: u32 = 0;
    for &b in iban[4..].iter().chain(&iban[..4]) {
        match b {
            b'0'..=b'9' => r = (r * 10 + u32::from(b - b'0')) % 97,
            b'A'..=b'Z' => r = (r * 100 + u32::from(b - b'A' + 10)) % 97,
            _ => return false,
        }
    }
    r == 1
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IbanError {
    BadCharacter(char),
    UnknownCountry(String),
    Length {
        country: String,
        expected: usize,
        got: usize,
    },
    Checksum,
}

impl fmt::Display for IbanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IbanError::BadCharacter(c) => write!(f, "{c:?} cannot be part of an IBAN"),
            IbanError::UnknownCountry(c) => write!(f, "{c:?} is no country that uses IBANs"),
            IbanError::Length {
                country,
                expected,
                got,
            } => write!(
                f,
                "an IBAN from {country} has {expected} characters, this one {got}"
            ),
            IbanError::Checksum => write!(f, "fails the IBAN check digits (mod 97)"),
        }
    }
}

impl std::error::Error for IbanError {}

/// Check an upper-case IBAN without spaces.
pub(crate) fn check(iban: &[u8]) -> Result<(), IbanError> {
    if iban.len() < 4 {
        return Err(IbanError::Length {
            country: String::from_utf8_lossy(&iban[..iban.len().min(2)]).into(),
            expected: 15,
            got: iban.len(),
        });
    }
    let country = &iban[..2];
    let cs = String::from_utf8_lossy(country).into_owned();
    let expected = iban_length(country).ok_or_else(|| IbanError::UnknownCountry(cs.clone()))?;
    if !iban[2..4].iter().all(u8::is_ascii_digit) {
        return Err(IbanError::Checksum);
    }
    if iban.len() != expected {
        return Err(IbanError::Length {
            country: cs,
            expected,
            got: iban.len(),
        });
    }
    if !mod97_valid(iban) {
        return Err(IbanError::Checksum);
    }
    Ok(())
}

/// Normalise an IBAN typed into a form field: spaces and dashes dropped, upper-cased, checked.
pub fn parse_iban(field: &str) -> Result<String, IbanError> {
    let cleaned = crate::clean::Cleaned::new(field);
    let mut out = Vec::with_capacity(34);
    for c in cleaned.text.trim().chars() {
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' => {
                if out.len() > 40 {
                    return Err(IbanError::Length {
                        country: String::from_utf8_lossy(&out[..2]).into(),
                        expected: iban_length(&out[..2]).unwrap_or(34),
                        got: 41,
                    });
                }
                out.push(c.to_ascii_uppercase() as u8)
            }
            ' ' | '-' => {}
            _ => return Err(IbanError::BadCharacter(c)),
        }
    }
    check(&out)?;
    Ok(String::from_utf8(out).unwrap_or_default())
}

/// IBAN candidates in free text: upper-case country code and check digits at a word start,
/// then exactly the country's length of upper-case letters and digits, single spaces allowed
/// between groups of four. Returns (start, end, normal form or why it failed the check).
pub(crate) fn find(text: &str) -> Vec<(usize, usize, Result<String, IbanError>)> {
    let b = text.as_bytes();
    let n = b.len();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 4 <= n {
        let start_ok = b[i].is_ascii_uppercase()
            && b[i + 1].is_ascii_uppercase()
            && b[i + 2].is_ascii_digit()
            && b[i + 3].is_ascii_digit()
            && !text[..i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
        let len = if start_ok {
            iban_length(&b[i..i + 2])
        } else {
            None
        };
        let Some(len) = len else {
            i += 1;
            continue;
        };
        let mut iban = Vec::with_capacity(len);
        let mut j = i;
        while j < n && iban.len() < len {
            let c = b[j];
            if c.is_ascii_uppercase() || c.is_ascii_digit() {
                iban.push(c);
                j += 1;
            } else if c == b' '
                && iban.len() % 4 == 0
                && b.get(j + 1)
                    .is_some_and(|x| x.is_ascii_uppercase() || x.is_ascii_digit())
            {
                j += 1;
            } else {
                break;
            }
        }
        let end_ok = !text[j..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        if iban.len() == len && end_ok {
            let r = check(&iban).map(|()| String::from_utf8(iban).unwrap_or_default());
            out.push((i, j, r));
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_sorted() {
        assert!(LENGTHS.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn known_ibans() {
        assert_eq!(
            parse_iban("GB82 WEST 1234 5698 7654 32").unwrap(),
            "GB82WEST12345698765432"
        );
        assert_eq!(
            parse_iban("de89 3704 0044 0532 0130 00").unwrap(),
            "DE89370400440532013000"
        );
        assert_eq!(
            parse_iban("GB82 WEST 1234 5698 7654 33"),
            Err(IbanError::Checksum)
        );
        assert!(matches!(
            parse_iban("GB82 WEST 1234 5698 7654"),
            Err(IbanError::Length { .. })
        ));
        assert!(matches!(
            parse_iban("UZ82 1234"),
            Err(IbanError::UnknownCountry(_))
        ));
        assert_eq!(parse_iban("GB8!"), Err(IbanError::BadCharacter('!')));
    }
}
