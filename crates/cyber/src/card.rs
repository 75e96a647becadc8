//! Payment cards. The full number (PAN) is never kept: a [`CardToken`] holds only the BIN (first
//! six digits), the last four, the length, the network and HMAC-SHA256(key, PAN digits) under a
//! key the caller supplies. There is no way to get the PAN back out of it short of brute force
//! with the key, which is why the key must stay secret: with it, the ~10^5–10^9 numbers that
//! share a BIN and last four can be hashed and compared.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

/// The secret under which card numbers are hashed. Debug never shows it; it is wiped on drop.
pub struct CardKey {
    bytes: Vec<u8>,
}

/// Why a key was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyError {
    TooShort(usize),
    NotHex,
    NoRandomness(String),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::TooShort(n) => write!(
                f,
                "card key is {n} bytes; at least {MIN_KEY_BYTES} are needed (32 recommended)"
            ),
            KeyError::NotHex => write!(f, "card key is not a hexadecimal string"),
            KeyError::NoRandomness(e) => write!(f, "no randomness for a card key: {e}"),
        }
    }
}

impl std::error::Error for KeyError {}

/// The shortest key accepted (128 bits).
pub const MIN_KEY_BYTES: usize = 16;

impl CardKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<CardKey, KeyError> {
        if bytes.len() < MIN_KEY_BYTES {
            return Err(KeyError::TooShort(bytes.len()));
        }
        Ok(CardKey {
            bytes: bytes.to_vec(),
        })
    }

    /// A key written as hexadecimal (surrounding white space ignored).
    pub fn from_hex(s: &str) -> Result<CardKey, KeyError> {
        let mut bytes = hex::decode(s.trim()).map_err(|_| KeyError::NotHex)?;
        let key = CardKey::from_bytes(&bytes);
        wipe(&mut bytes);
        key
    }

    /// A fresh random 32-byte key from the operating system. Hashes made under it match only
    /// hashes made under the same key, i.e. within this process.
    pub fn random() -> Result<CardKey, KeyError> {
        let mut bytes = vec![0u8; 32];
        getrandom::getrandom(&mut bytes).map_err(|e| KeyError::NoRandomness(e.to_string()))?;
        Ok(CardKey { bytes })
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC accepts keys of any length.
        <Hmac<Sha256> as Mac>::new_from_slice(&self.bytes).expect("HMAC takes any key length")
    }
}

impl Drop for CardKey {
    fn drop(&mut self) {
        wipe(&mut self.bytes);
    }
}

impl fmt::Debug for CardKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardKey(<{} bytes, redacted>)", self.bytes.len())
    }
}

/// Overwrite a buffer that held secret digits, in a way the optimiser keeps.
pub(crate) fn wipe(buf: &mut [u8]) {
    for b in buf.iter_mut() {
        // SAFETY: `b` is a valid, aligned, exclusive reference to a u8.
        unsafe { std::ptr::write_volatile(b, 0) };
    }
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}

/// Card networks, by issuer identification number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CardNetwork {
    /// Uzbekistan's domestic scheme, BIN 8600.
    Uzcard,
    /// Uzbekistan's domestic scheme, BIN 9860.
    Humo,
    Visa,
    Mastercard,
    Mir,
    UnionPay,
    Amex,
    Jcb,
    Discover,
    Maestro,
    Other,
}

impl CardNetwork {
    pub fn as_str(self) -> &'static str {
        match self {
            CardNetwork::Uzcard => "uzcard",
            CardNetwork::Humo => "humo",
            CardNetwork::Visa => "visa",
            CardNetwork::Mastercard => "mastercard",
            CardNetwork::Mir => "mir",
            CardNetwork::UnionPay => "unionpay",
            CardNetwork::Amex => "amex",
            CardNetwork::Jcb => "jcb",
            CardNetwork::Discover => "discover",
            CardNetwork::Maestro => "maestro",
            CardNetwork::Other => "other",
        }
    }
}

fn leading(d: &[u8], n: usize) -> u32 {
    d.iter()
        .take(n)
        .fold(0u32, |a, &b| a * 10 + u32::from(b - b'0'))
}

/// The network of a PAN (ASCII digits), or `None` when its first digits belong to no payment
/// card scheme posbon accepts (major industry identifiers 2–6, plus 8600 and 9860).
pub fn network(d: &[u8]) -> Option<CardNetwork> {
    if d.len() < 6 {
        return None;
    }
    let p4 = leading(d, 4);
    let p2 = p4 / 100;
    Some(match p4 {
        8600 => CardNetwork::Uzcard,
        9860 => CardNetwork::Humo,
        2200..=2204 => CardNetwork::Mir,
        2221..=2720 => CardNetwork::Mastercard,
        3528..=3589 => CardNetwork::Jcb,
        6011 | 6440..=6599 => CardNetwork::Discover,
        _ => match p2 {
            34 | 37 => CardNetwork::Amex,
            40..=49 => CardNetwork::Visa,
            51..=55 => CardNetwork::Mastercard,
            62 => CardNetwork::UnionPay,
            50 | 56..=58 | 60..=69 => CardNetwork::Maestro,
            20..=69 => CardNetwork::Other,
            _ => return None,
        },
    })
}

/// The Luhn (mod 10) check over ASCII digits.
pub fn luhn_valid(d: &[u8]) -> bool {
    if d.is_empty() || !d.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut sum = 0u32;
    for (i, &b) in d.iter().rev().enumerate() {
        let mut v = u32::from(b - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// What is kept of a card: never the full number.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CardToken {
    bin: [u8; 6],
    last4: [u8; 4],
    len: u8,
    network: CardNetwork,
    hash: [u8; 32],
}

impl CardToken {
    /// Build a token from a Luhn-valid PAN of 13–19 ASCII digits. The caller wipes `pan`.
    pub(crate) fn from_pan(pan: &[u8], key: &CardKey) -> Result<CardToken, CardError> {
        if !pan.iter().all(u8::is_ascii_digit) {
            return Err(CardError::NotDigits);
        }
        if !(13..=19).contains(&pan.len()) {
            return Err(CardError::Length(pan.len()));
        }
        let network = network(pan).ok_or(CardError::NotACardPrefix)?;
        if !luhn_valid(pan) {
            return Err(CardError::Luhn);
        }
        let mut mac = key.mac();
        mac.update(pan);
        let hash: [u8; 32] = mac.finalize().into_bytes().into();
        let mut bin = [0u8; 6];
        bin.copy_from_slice(&pan[..6]);
        let mut last4 = [0u8; 4];
        last4.copy_from_slice(&pan[pan.len() - 4..]);
        Ok(CardToken {
            bin,
            last4,
            len: pan.len() as u8,
            network,
            hash,
        })
    }

    /// First six digits (the issuer's BIN).
    pub fn bin(&self) -> &str {
        std::str::from_utf8(&self.bin).unwrap_or_default()
    }
    pub fn last4(&self) -> &str {
        std::str::from_utf8(&self.last4).unwrap_or_default()
    }
    /// Number of digits of the card number.
    pub fn pan_len(&self) -> usize {
        usize::from(self.len)
    }
    pub fn network(&self) -> CardNetwork {
        self.network
    }
    /// HMAC-SHA256(key, ASCII digits of the card number).
    pub fn keyed_hash(&self) -> &[u8; 32] {
        &self.hash
    }
    pub fn keyed_hash_hex(&self) -> String {
        hex::encode(self.hash)
    }
    /// `BIN…last4`, e.g. `860012…9012`: what is shown and what the public check hashes.
    pub fn masked(&self) -> String {
        format!("{}\u{2026}{}", self.bin(), self.last4())
    }
}

impl fmt::Debug for CardToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CardToken")
            .field("masked", &self.masked())
            .field("len", &self.len)
            .field("network", &self.network)
            .field("keyed_hash", &self.keyed_hash_hex())
            .finish()
    }
}

impl serde::Serialize for CardToken {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("CardToken", 5)?;
        st.serialize_field("bin", self.bin())?;
        st.serialize_field("last4", self.last4())?;
        st.serialize_field("len", &self.len)?;
        st.serialize_field("network", &self.network)?;
        st.serialize_field("hash", &self.keyed_hash_hex())?;
        st.end()
    }
}

/// Why a card number was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CardError {
    NotDigits,
    Length(usize),
    NotACardPrefix,
    Luhn,
}

impl fmt::Display for CardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CardError::NotDigits => write!(f, "a card number has only digits, spaces and dashes"),
            CardError::Length(n) => write!(f, "a card number has 13 to 19 digits, not {n}"),
            CardError::NotACardPrefix => write!(f, "no payment card number starts like this"),
            CardError::Luhn => write!(
                f,
                "fails the Luhn check: a digit is wrong or two are swapped"
            ),
        }
    }
}

impl std::error::Error for CardError {}

/// Tokenise a card number typed into a form field (digits with optional spaces or dashes).
pub fn parse_card(field: &str, key: &CardKey) -> Result<CardToken, CardError> {
    let cleaned = crate::clean::Cleaned::new(field);
    let mut pan = [0u8; 19];
    let mut n = 0usize;
    let mut result = Ok(());
    for c in cleaned.text.trim().chars() {
        match c {
            '0'..='9' => {
                if n == pan.len() {
                    result = Err(CardError::Length(20));
                    break;
                }
                pan[n] = c as u8;
                n += 1;
            }
            ' ' | '-' => {}
            _ => {
                result = Err(CardError::NotDigits);
                break;
            }
        }
    }
    let out = result.and_then(|()| CardToken::from_pan(&pan[..n], key));
    wipe(&mut pan);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CardKey {
        CardKey::from_bytes(b"0123456789abcdef0123456789abcdef").unwrap()
    }

    #[test]
    fn luhn() {
        assert!(luhn_valid(b"4111111111111111"));
        assert!(luhn_valid(b"79927398713"));
        assert!(!luhn_valid(b"4111111111111112"));
        assert!(!luhn_valid(b""));
    }

    #[test]
    fn token_keeps_bin_last4_and_hmac_only() {
        let t = parse_card("4111 1111 1111 1111", &key()).unwrap();
        assert_eq!((t.bin(), t.last4(), t.pan_len()), ("411111", "1111", 16));
        assert_eq!(t.network(), CardNetwork::Visa);
        assert_eq!(t.masked(), "411111…1111");
        let mut mac = key().mac();
        mac.update(b"4111111111111111");
        assert_eq!(&t.keyed_hash()[..], &mac.finalize().into_bytes()[..]);
        let dbg = format!("{t:?}");
        assert!(!dbg.contains("4111111111111111"), "{dbg}");
        let json = serde_json::to_string(&t).unwrap();
        assert!(!json.contains("4111111111111111"), "{json}");
    }

    #[test]
    fn uzbek_networks() {
        assert_eq!(network(b"8600123412341234"), Some(CardNetwork::Uzcard));
        assert_eq!(network(b"9860123412341234"), Some(CardNetwork::Humo));
        assert_eq!(network(b"2200123412341234"), Some(CardNetwork::Mir));
        assert_eq!(network(b"5555555555554444"), Some(CardNetwork::Mastercard));
        assert_eq!(network(b"1234567812345670"), None);
        assert_eq!(network(b"9999999999999995"), None);
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse_card("4111 1111 1111 1112", &key()),
            Err(CardError::Luhn)
        );
        assert_eq!(parse_card("4111 1111", &key()), Err(CardError::Length(8)));
        assert_eq!(parse_card("4111x", &key()), Err(CardError::NotDigits));
        assert_eq!(
            parse_card("12345678901234567890123", &key()),
            Err(CardError::Length(20))
        );
        assert!(CardKey::from_bytes(b"short").is_err());
        assert_eq!(format!("{:?}", key()), "CardKey(<32 bytes, redacted>)");
    }
}
