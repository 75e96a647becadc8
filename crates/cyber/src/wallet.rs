//! Crypto wallet addresses, each verified by its own checksum:
//! - Bitcoin legacy (P2PKH `1…`, P2SH `3…`): base58check, version 0x00 / 0x05;
//! - Bitcoin segwit (`bc1…`): bech32 for witness v0, bech32m for v1+ (BIP-173/350);
//! - Ethereum (`0x` + 40 hex): EIP-55 checksum verified when the case is mixed;
//! - TRON (`T…`): base58check, version 0x41.
//!
//! Normal forms: base58 addresses as written (base58 is case-sensitive), bech32 and Ethereum in
//! lower case.

use sha2::{Digest, Sha256};
use sha3::Keccak256;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Chain {
    Bitcoin,
    Ethereum,
    Tron,
}

impl Chain {
    pub fn as_str(self) -> &'static str {
        match self {
            Chain::Bitcoin => "bitcoin",
            Chain::Ethereum => "ethereum",
            Chain::Tron => "tron",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WalletError {
    /// Not shaped like any supported address.
    Unrecognised,
    /// Shaped like an address of this chain but its checksum is wrong (a typo or a forgery).
    Checksum(Chain),
}

impl fmt::Display for WalletError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WalletError::Unrecognised => write!(
                f,
                "not a Bitcoin, Ethereum or TRON address (expected 1…, 3…, bc1…, 0x… or T…)"
            ),
            WalletError::Checksum(c) => write!(
                f,
                "looks like a {} address but its checksum is wrong",
                c.as_str()
            ),
        }
    }
}

impl std::error::Error for WalletError {}

fn is_base58(b: u8) -> bool {
    b.is_ascii_alphanumeric() && !matches!(b, b'0' | b'O' | b'I' | b'l')
}

fn base58check(s: &str, versions: &[u8]) -> bool {
    let Ok(raw) = bs58::decode(s).into_vec() else {
        return false;
    };
    if raw.len() != 25 || !versions.contains(&raw[0]) {
        return false;
    }
    let h = Sha256::digest(Sha256::digest(&raw[..21]));
    h[..4] == raw[21..]
}

/// EIP-55: the case of each hex letter encodes a bit of keccak256(lower-case hex).
fn eip55_ok(hex40: &str) -> bool {
    let lower = hex40.to_ascii_lowercase();
    let h = Keccak256::digest(lower.as_bytes());
    for (i, c) in hex40.bytes().enumerate() {
        if c.is_ascii_alphabetic() {
            let nibble = (h[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0x0f;
            if (nibble >= 8) != c.is_ascii_uppercase() {
                return false;
            }
        }
    }
    true
}

/// Whether a token has the outward shape of an address, before any checksum: the extractor
/// reports a failed checksum only for these.
pub(crate) fn shape(s: &str) -> Option<Chain> {
    let b = s.as_bytes();
    let n = b.len();
    if n == 42 && (s.starts_with("0x") || s.starts_with("0X")) {
        return b[2..]
            .iter()
            .all(u8::is_ascii_hexdigit)
            .then_some(Chain::Ethereum);
    }
    if (14..=74).contains(&n) && b[..3].eq_ignore_ascii_case(b"bc1") {
        return Some(Chain::Bitcoin);
    }
    if !b.iter().all(|&c| is_base58(c)) {
        return None;
    }
    match b.first()? {
        b'1' | b'3' if (26..=35).contains(&n) => Some(Chain::Bitcoin),
        b'T' if n == 34 => Some(Chain::Tron),
        _ => None,
    }
}

/// Verify and normalise one address.
pub fn parse_wallet(s: &str) -> Result<(Chain, String), WalletError> {
    let s = s.trim();
    let chain = shape(s).ok_or(WalletError::Unrecognised)?;
    let ok = match chain {
        Chain::Ethereum => {
            let body = &s[2..];
            let mixed = body.bytes().any(|c| c.is_ascii_lowercase())
                && body.bytes().any(|c| c.is_ascii_uppercase());
            if mixed && !eip55_ok(body) {
                return Err(WalletError::Checksum(chain));
            }
            return Ok((chain, format!("0x{}", body.to_ascii_lowercase())));
        }
        Chain::Bitcoin if s.as_bytes()[..3].eq_ignore_ascii_case(b"bc1") => {
            match bech32::segwit::decode(s) {
                Ok((hrp, _, _)) if hrp == bech32::hrp::BC => {
                    return Ok((chain, s.to_ascii_lowercase()));
                }
                _ => false,
            }
        }
        Chain::Bitcoin => base58check(s, &[0x00, 0x05]),
        Chain::Tron => base58check(s, &[0x41]),
    };
    if ok {
        Ok((chain, s.to_string()))
    } else {
        Err(WalletError::Checksum(chain))
    }
}

/// A verified, normalised address or why not.
pub(crate) type WalletResult = Result<(Chain, String), WalletError>;

/// Address candidates in free text: whole ASCII-alphanumeric words of an address's shape.
/// Returns (start, end, chain of the shape, normal form or why it failed its checksum).
pub(crate) fn find(text: &str) -> Vec<(usize, usize, WalletResult)> {
    let b = text.as_bytes();
    let n = b.len();
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        if !b[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let s = i;
        while i < n && b[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let len = i - s;
        if !(26..=74).contains(&len) {
            continue;
        }
        let before = text[..s].chars().next_back();
        let after = text[i..].chars().next();
        let boundary = |c: Option<char>| !c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        if !boundary(before) || !boundary(after) {
            continue;
        }
        let word = &text[s..i];
        let Some(chain) = shape(word) else {
            continue;
        };
        // a base58 shape made of digits only is a long number, not an address
        if matches!(chain, Chain::Tron | Chain::Bitcoin)
            && !word.bytes().any(|c| c.is_ascii_alphabetic())
        {
            continue;
        }
        out.push((s, i, parse_wallet(word)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitcoin() {
        // the genesis block's address and a well-known P2SH
        for a in [
            "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
            "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
        ] {
            assert_eq!(parse_wallet(a), Ok((Chain::Bitcoin, a.to_string())));
        }
        assert_eq!(
            parse_wallet("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb"),
            Err(WalletError::Checksum(Chain::Bitcoin))
        );
        // BIP-173 / BIP-350 test vectors
        assert_eq!(
            parse_wallet("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4")
                .unwrap()
                .1,
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
        );
        assert!(
            parse_wallet("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0").is_ok()
        );
        // v1 with a bech32 (not bech32m) checksum is invalid per BIP-350
        assert!(
            parse_wallet(
                "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx"
            )
            .is_err()
        );
        assert!(parse_wallet("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5").is_err());
    }

    #[test]
    fn ethereum_eip55() {
        // EIP-55 test vectors
        for a in [
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        ] {
            assert_eq!(
                parse_wallet(a),
                Ok((Chain::Ethereum, a.to_ascii_lowercase()))
            );
        }
        assert_eq!(
            parse_wallet("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"),
            Err(WalletError::Checksum(Chain::Ethereum))
        );
        assert!(parse_wallet("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed").is_ok());
    }

    #[test]
    fn tron() {
        // USDT's TRC-20 contract address
        assert!(parse_wallet("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t").is_ok());
        assert_eq!(
            parse_wallet("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u"),
            Err(WalletError::Checksum(Chain::Tron))
        );
        assert_eq!(parse_wallet("hello"), Err(WalletError::Unrecognised));
    }
}
