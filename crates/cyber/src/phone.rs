//! Phone numbers: Uzbek numbers in every way people write them, and other countries' numbers
//! written with an explicit `+`, all normalised to E.164 (`+998901234567`).
//!
//! Uzbek national significant numbers have 9 digits: a two-digit operator or area code and a
//! 7-digit subscriber number. The codes accepted are in [`UZ_MOBILE_CODES`] and
//! [`UZ_FIXED_CODES`] (from the ITU E.164 communication for +998 as carried by libphonenumber's
//! metadata in 2024-2025: general pattern `(?:20|33|[5-79]\d|88)\d{7}`, mobile `20 33 50 88
//! 90-95 97-99` and `77`, fixed lines by region). A number with another code is rejected with
//! the code named, never guessed.

use std::fmt;

/// Mobile operator codes: 20, 33 (Humans), 50, 77 (Uzmobile), 88 and 97 (Mobiuz), 90 and 91
/// (Beeline), 93 and 94 (Ucell), 95 and 99 (Uzmobile), 98 (Perfectum).
pub const UZ_MOBILE_CODES: [u8; 13] = [20, 33, 50, 77, 88, 90, 91, 93, 94, 95, 97, 98, 99];

/// Fixed-line area codes: 55 and 78 (Tashkent, Uztelecom), 61 Karakalpakstan, 62 Khorezm,
/// 65 Bukhara, 66 Samarkand, 67 Sirdaryo, 69 Namangan, 70 Tashkent region, 71 Tashkent city,
/// 72 Jizzakh, 73 Fergana, 74 Andijan, 75 Kashkadarya, 76 Surkhandarya, 79 Navoi.
pub const UZ_FIXED_CODES: [u8; 16] = [
    55, 61, 62, 65, 66, 67, 69, 70, 71, 72, 73, 74, 75, 76, 78, 79,
];

/// What an Uzbek code belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UzLine {
    Mobile,
    Fixed,
}

pub fn uz_line(code: u8) -> Option<UzLine> {
    if UZ_MOBILE_CODES.contains(&code) {
        Some(UzLine::Mobile)
    } else if UZ_FIXED_CODES.contains(&code) {
        Some(UzLine::Fixed)
    } else {
        None
    }
}

/// ITU-T E.164 country calling codes in service (zones 1-9; prefix-free by construction).
const COUNTRY_CODES: &[u16] = &[
    1, 7, 20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54,
    55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98, 211,
    212, 213, 216, 218, 220, 221, 222, 223, 224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 234,
    235, 236, 237, 238, 239, 240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 251, 252, 253,
    254, 255, 256, 257, 258, 260, 261, 262, 263, 264, 265, 266, 267, 268, 269, 290, 291, 297, 298,
    299, 350, 351, 352, 353, 354, 355, 356, 357, 358, 359, 370, 371, 372, 373, 374, 375, 376, 377,
    378, 379, 380, 381, 382, 383, 385, 386, 387, 389, 420, 421, 423, 500, 501, 502, 503, 504, 505,
    506, 507, 508, 509, 590, 591, 592, 593, 594, 595, 596, 597, 598, 599, 670, 672, 673, 674, 675,
    676, 677, 678, 679, 680, 681, 682, 683, 685, 686, 687, 688, 689, 690, 691, 692, 800, 808, 850,
    852, 853, 855, 856, 870, 880, 881, 882, 883, 886, 888, 960, 961, 962, 963, 964, 965, 966, 967,
    968, 970, 971, 972, 973, 974, 975, 976, 977, 992, 993, 994, 995, 996, 998,
];

/// Total E.164 digit counts (country code included) allowed for a country code. Where the
/// numbering plan is closed the length is exact; elsewhere the general E.164 bounds apply.
fn e164_lengths(cc: u16) -> (usize, usize) {
    match cc {
        1 | 7 | 993 | 33 | 34 | 48 | 371 | 373 => (11, 11),
        998 | 992 | 996 | 994 | 995 | 380 | 375 | 90 | 91 => (12, 12),
        86 => (12, 13),
        44 => (11, 12),
        82 => (10, 12),
        _ => (8, 15),
    }
}

/// The country code at the start of `digits`, if it is one in service.
pub fn country_code(digits: &[u8]) -> Option<(u16, usize)> {
    let mut v: u16 = 0;
    for (i, d) in digits.iter().take(3).enumerate() {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u16::from(d - b'0');
        if COUNTRY_CODES.binary_search(&v).is_ok() {
            return Some((v, i + 1));
        }
    }
    None
}

/// A phone number in E.164 form.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Phone {
    /// `+` and digits, e.g. `+998901234567`.
    pub e164: String,
    pub country_code: u16,
    /// For +998 numbers: whether the code is a mobile operator's or an area's.
    pub uz_line: Option<UzLine>,
}

/// Why a phone number was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PhoneError {
    Empty,
    BadCharacter(char),
    /// +998 with a code that is no operator's or area's.
    UnknownUzCode(String),
    /// Digit count impossible for the way it is written.
    Length {
        digits: usize,
    },
    UnknownCountryCode,
    /// Only a `+` and the country code make a foreign number unambiguous.
    NotUzbekWithoutPlus,
}

impl fmt::Display for PhoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PhoneError::Empty => write!(f, "no digits"),
            PhoneError::BadCharacter(c) => write!(f, "{c:?} cannot be part of a phone number"),
            PhoneError::UnknownUzCode(c) => write!(
                f,
                "+998 {c} is not an Uzbek number: {c} is no mobile operator's or area's code"
            ),
            PhoneError::Length { digits } => {
                write!(
                    f,
                    "{digits} digits is not a possible length for this number"
                )
            }
            PhoneError::UnknownCountryCode => write!(f, "no country has this calling code"),
            PhoneError::NotUzbekWithoutPlus => write!(
                f,
                "not an Uzbek number; write a foreign number with + and its country code"
            ),
        }
    }
}

impl std::error::Error for PhoneError {}

/// Validate a 9-digit Uzbek national number and build the E.164 form.
pub(crate) fn uz_from_nsn(nsn: &[u8]) -> Result<Phone, PhoneError> {
    if nsn.len() != 9 || !nsn.iter().all(u8::is_ascii_digit) {
        return Err(PhoneError::Length { digits: nsn.len() });
    }
    let code = (nsn[0] - b'0') * 10 + (nsn[1] - b'0');
    let line = uz_line(code)
        .ok_or_else(|| PhoneError::UnknownUzCode(String::from_utf8_lossy(&nsn[..2]).into()))?;
    let mut e164 = String::with_capacity(13);
    e164.push_str("+998");
    e164.push_str(std::str::from_utf8(nsn).unwrap_or_default());
    Ok(Phone {
        e164,
        country_code: 998,
        uz_line: Some(line),
    })
}

/// A number written with a leading `+` (or `00`): `digits` are those after it.
pub(crate) fn international(digits: &[u8]) -> Result<Phone, PhoneError> {
    if digits.starts_with(b"998") {
        if digits.len() != 12 {
            return Err(PhoneError::Length {
                digits: digits.len(),
            });
        }
        return uz_from_nsn(&digits[3..]);
    }
    let (cc, cc_len) = country_code(digits).ok_or(PhoneError::UnknownCountryCode)?;
    let (lo, hi) = e164_lengths(cc);
    if digits.len() < lo || digits.len() > hi {
        return Err(PhoneError::Length {
            digits: digits.len(),
        });
    }
    // North American and Russian/Kazakh national numbers cannot start with 0 (or 1 for NANP).
    let first = digits[cc_len];
    if (cc == 1 && first < b'2') || (cc == 7 && first == b'0') {
        return Err(PhoneError::Length {
            digits: digits.len(),
        });
    }
    let mut e164 = String::with_capacity(digits.len() + 1);
    e164.push('+');
    e164.push_str(std::str::from_utf8(digits).unwrap_or_default());
    Ok(Phone {
        e164,
        country_code: cc,
        uz_line: None,
    })
}

/// Normalise a phone number typed into a form field: the whole field is one number.
///
/// Accepted: `+998 90 123 45 67`, `998901234567`, `8-90-123-45-67`, `(90) 123-45-67`,
/// `90 1234567`, `00998…`, and `+CC…` for any country. Separators: spaces, `-`, `.`, `(`, `)`,
/// `/`.
pub fn parse_phone(field: &str) -> Result<Phone, PhoneError> {
    let cleaned = crate::clean::Cleaned::new(field);
    let s = cleaned.text.trim();
    let mut digits = Vec::with_capacity(16);
    let mut plus = false;
    for (i, c) in s.char_indices() {
        match c {
            '0'..='9' => {
                if digits.len() > 20 {
                    return Err(PhoneError::Length { digits: 21 });
                }
                digits.push(c as u8);
            }
            '+' if i == 0 => plus = true,
            ' ' | '-' | '.' | '(' | ')' | '/' => {}
            _ => return Err(PhoneError::BadCharacter(c)),
        }
    }
    if digits.is_empty() {
        return Err(PhoneError::Empty);
    }
    if plus {
        return international(&digits);
    }
    if let Some(rest) = digits.strip_prefix(b"00") {
        return international(rest);
    }
    match digits.len() {
        12 if digits.starts_with(b"998") => uz_from_nsn(&digits[3..]),
        10 if digits[0] == b'8' => uz_from_nsn(&digits[1..]),
        9 => uz_from_nsn(&digits),
        11 if digits[0] == b'8' || digits[0] == b'7' => Err(PhoneError::NotUzbekWithoutPlus),
        n => Err(PhoneError::Length { digits: n }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_codes_sorted_and_prefix_free() {
        assert!(COUNTRY_CODES.windows(2).all(|w| w[0] < w[1]));
        for &a in COUNTRY_CODES {
            for &b in COUNTRY_CODES {
                if a != b {
                    let (sa, sb) = (a.to_string(), b.to_string());
                    assert!(!sb.starts_with(&sa), "{sa} is a prefix of {sb}");
                }
            }
        }
    }

    #[test]
    fn uzbek_forms() {
        for s in [
            "+998 90 123 45 67",
            "+998901234567",
            "998901234567",
            "8-90-123-45-67",
            "8 (90) 123-45-67",
            "(90) 123-45-67",
            "90 1234567",
            "901234567",
            "+998 (90) 123-45-67",
            "00998901234567",
            "+998.90.123.45.67",
            "＋９９８ ９０ １２３ ４５ ６７",
        ] {
            assert_eq!(parse_phone(s).unwrap().e164, "+998901234567", "{s}");
        }
        assert_eq!(
            parse_phone("+998 71 200 00 00").unwrap().uz_line,
            Some(UzLine::Fixed)
        );
    }

    #[test]
    fn bad_numbers_are_named() {
        assert_eq!(
            parse_phone("+998 12 345 67 89"),
            Err(PhoneError::UnknownUzCode("12".into()))
        );
        assert_eq!(
            parse_phone("+998 90 123 45 6"),
            Err(PhoneError::Length { digits: 11 })
        );
        assert_eq!(
            parse_phone("8 912 345 67 89"),
            Err(PhoneError::NotUzbekWithoutPlus)
        );
        assert_eq!(
            parse_phone("90 123 45 6x"),
            Err(PhoneError::BadCharacter('x'))
        );
        assert_eq!(parse_phone(""), Err(PhoneError::Empty));
        assert!(parse_phone("+0 123 456 789").is_err());
    }

    #[test]
    fn foreign_with_plus() {
        let p = parse_phone("+7 (912) 345-67-89").unwrap();
        assert_eq!((p.e164.as_str(), p.country_code), ("+79123456789", 7));
        assert_eq!(
            parse_phone("+44 20 7946 0958").unwrap().e164,
            "+442079460958"
        );
        assert_eq!(parse_phone("+992 93 123 4567").unwrap().country_code, 992);
        assert!(parse_phone("+7 912 345 67 8").is_err());
        assert!(parse_phone("+1 055 123 4567").is_err());
    }
}
