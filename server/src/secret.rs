//! Random secrets: booking codes, manage links, staff sessions and the keys
//! the server makes for itself.

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

/// A fresh random key of 32 letters and digits (about 190 random bits), such
/// as the proof of work's secret.
pub fn random_key() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 32)
}

/// A fresh manage-link or staff-session secret: 32 random bytes (256 bits) as
/// 64 hex digits.
pub fn manage_token() -> String {
    let bytes: [u8; 32] = rand::random();
    hex(&bytes)
}

/// The SHA-256 of a manage-link or staff-session secret, as stored instead of
/// the secret. The
/// secret has 256 random bits, so a fast hash is enough: there is nothing to guess.
pub fn manage_hash(token: &str) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(token.as_bytes()))
}

/// The key under which the answer to a `book` is kept and its row found again:
/// a hash of the request id with the slot and the patient's normalized details,
/// so that only the same request for the same patient finds it, and the request
/// id itself is never stored.
pub fn retry_key(request_id: &str, slot: &protocol::SlotId, patient: &protocol::Patient) -> String {
    use sha2::Digest;
    let name = patient.name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    let mut hash = sha2::Sha256::new();
    for part in [request_id, &slot.0, &name, &phone_digits(&patient.phone)] {
        // Lengths first, so that no two different lists of parts hash alike.
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    hex(&hash.finalize())
}

/// A phone number's digits alone, which is what tells two numbers apart.
pub fn phone_digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
    fn a_retry_key_depends_on_request_slot_and_patient_but_not_on_spelling() {
        let slot = protocol::SlotId("s".into());
        let anna = protocol::Patient { name: "Anna  Petrova".into(), phone: "+7 912 345-67-89".into() };
        let same = protocol::Patient { name: "anna petrova".into(), phone: "7 (912) 3456789".into() };
        let other = protocol::Patient { name: "Boris".into(), phone: "+7 912 345-67-89".into() };
        let key = retry_key("r-1", &slot, &anna);
        assert_eq!(key, retry_key("r-1", &slot, &same));
        assert_ne!(key, retry_key("r-1", &slot, &other));
        assert_ne!(key, retry_key("r-2", &slot, &anna));
        assert_ne!(key, retry_key("r-1", &protocol::SlotId("t".into()), &anna));
        assert!(!key.contains("r-1"));
    }

    #[test]
    fn random_keys_are_long_and_differ() {
        assert_eq!(random_key().len(), 32);
        assert_ne!(random_key(), random_key());
    }
}
