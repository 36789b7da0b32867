//! The proof of work a client does before it may book: an ALTCHA (v2) challenge,
//! carried in the shape the ALTCHA libraries read and write, so any of them can
//! solve it.
//!
//! The client derives keys from `salt` and `nonce ‖ counter` (the counter as four
//! big-endian bytes) by hashing `cost` times with `algorithm`, for counter 0, 1,
//! 2, … until a key starts with `keyPrefix` (hex); it sends back that counter and
//! the key it found. The server chose the counter, so the work is known in
//! advance; the signature lets it check the answer without remembering the
//! challenge.

use serde::{Deserialize, Serialize};

/// A signed challenge, as the server hands it out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PowChallenge {
    /// What to solve.
    pub parameters: PowParameters,
    /// The server's HMAC over `parameters`; the client sends it back untouched.
    pub signature: String,
}

/// The parameters of a challenge (ALTCHA's names, in camelCase).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PowParameters {
    /// The key derivation: `SHA-256` (the hash applied `cost` times).
    pub algorithm: String,
    /// How many times each key is hashed.
    pub cost: u32,
    /// Unix seconds after which the server no longer accepts a solution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// Length of a derived key in bytes.
    pub key_length: usize,
    /// The hex prefix the derived key must start with.
    pub key_prefix: String,
    /// The server's HMAC of the expected key, for checking a solution quickly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_signature: Option<String>,
    /// Random bytes (hex) that start each password; unique per challenge.
    pub nonce: String,
    /// Random bytes (hex) that start each key derivation.
    pub salt: String,
}

/// What the client found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PowSolution {
    /// The counter whose key matched.
    pub counter: u32,
    /// That key, in hex.
    pub derived_key: String,
}

/// A solved challenge, sent with `book`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proof {
    /// The challenge exactly as the server sent it.
    pub challenge: PowChallenge,
    /// Its solution.
    pub solution: PowSolution,
}

#[cfg(feature = "solver")]
impl PowChallenge {
    /// Tries the counters of `counters` in order and returns the first solution
    /// among them. A client that must stay responsive (a page) calls this with
    /// short ranges and yields in between; `None` when the range holds none.
    pub fn solve_within(&self, counters: std::ops::Range<u32>) -> Option<PowSolution> {
        use sha2::{Digest, Sha256};
        let p = &self.parameters;
        let salt = hex_decode(&p.salt)?;
        let nonce = hex_decode(&p.nonce)?;
        let prefix = p.key_prefix.to_ascii_lowercase();
        // An even-length prefix is compared as bytes, without writing each key
        // out in hex.
        let prefix_bytes = hex_decode(&prefix);
        let mut data = Vec::with_capacity(64);
        for counter in counters {
            data.clear();
            data.extend_from_slice(&salt);
            data.extend_from_slice(&nonce);
            data.extend_from_slice(&counter.to_be_bytes());
            let mut key = Sha256::digest(&data);
            for _ in 1..p.cost.max(1) {
                key = Sha256::digest(key);
            }
            let key = &key[..p.key_length.min(key.len())];
            let found = match &prefix_bytes {
                Some(prefix) => key.starts_with(prefix),
                None => hex_encode(key).starts_with(&prefix),
            };
            if found {
                return Some(PowSolution { counter, derived_key: hex_encode(key) });
            }
        }
        None
    }

    /// Solves the challenge in one go (for programs that can wait).
    pub fn solve(&self) -> Option<PowSolution> {
        self.solve_within(0..u32::MAX)
    }
}

#[cfg(feature = "solver")]
fn hex_decode(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(feature = "solver")]
fn hex_encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}
