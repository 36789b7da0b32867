//! Random secrets: booking codes and the generated admin token, and comparing
//! secrets without leaking where they differ.

use rand::Rng;
use rand::distr::{Alphanumeric, SampleString};

/// Letters and digits that cannot be mistaken for one another when read aloud or
/// copied by hand (no 0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// A booking code such as `K7M2-QX4P`: 8 symbols, about 40 random bits.
pub fn booking_code() -> String {
    let mut rng = rand::rng();
    let mut code = String::with_capacity(9);
    for i in 0..8 {
        if i == 4 {
            code.push('-');
        }
        code.push(CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char);
    }
    code
}

/// A fresh admin token of 32 letters and digits (about 190 random bits).
pub fn admin_token() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 32)
}

/// A fresh manage-link secret: 32 random bytes (256 bits) as 64 hex digits.
pub fn manage_token() -> String {
    let bytes: [u8; 32] = rand::random();
    hex(&bytes)
}

/// The SHA-256 of a manage-link secret, as stored instead of the secret. The
/// secret has 256 random bits, so a fast hash is enough: there is nothing to guess.
pub fn manage_hash(token: &str) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `given` equals `expected`, taking the same time wherever they differ.
pub fn same(given: &str, expected: &str) -> bool {
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    let differences = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    a.len() == b.len() && differences == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booking_codes_are_two_groups_of_four_unambiguous_symbols() {
        let code = booking_code();
        assert_eq!(code.len(), 9);
        assert_eq!(&code[4..5], "-");
        assert!(code.bytes().filter(|&b| b != b'-').all(|b| CODE_ALPHABET.contains(&b)));
        assert_ne!(booking_code(), booking_code());
    }

    #[test]
    fn manage_tokens_are_long_random_and_stored_only_as_a_hash() {
        let token = manage_token();
        assert_eq!(token.len(), 64);
        assert_ne!(token, manage_token());
        let hash = manage_hash(&token);
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, token);
        assert_eq!(hash, manage_hash(&token));
    }

    #[test]
    fn secrets_compare_equal_only_when_identical() {
        assert!(same("abc", "abc"));
        assert!(!same("abd", "abc"));
        assert!(!same("ab", "abc"));
        assert!(!same("", "abc"));
        assert_eq!(admin_token().len(), 32);
    }
}
