//! Proof of work before booking (ALTCHA v2, through the `altcha` crate): the
//! server hands out signed challenges whose work it chose, and checks a solution
//! by its signature alone, so any instance that shares the key can check what
//! another issued. Each solution buys one attempt: the engine remembers the
//! nonces it was paid with, and a booking stores its nonce, so that the
//! database refuses a second booking with the same one on any instance.

use std::collections::BTreeMap;

use altcha::{Challenge, ChallengeParameters, CreateChallengeOptions, Solution, VerifySolutionOptions};
use chrono::{DateTime, Utc};
use protocol::{PowChallenge, PowParameters, Proof};
use rand::Rng;

/// Hashes per attempt; the work is this times the counter the server picks.
/// Small, because the server derives the expected key itself when it makes a
/// challenge (it chose the counter): a challenge must cost it next to nothing,
/// whatever it costs the client.
const COST: u32 = 10;
/// Attempts per thousand hashes of work.
const ATTEMPTS_PER_THOUSAND: u32 = 1_000 / COST;
/// How long a challenge may be solved and used.
const LIFETIME: chrono::Duration = chrono::Duration::minutes(15);
const ALGORITHM: &str = "SHA-256";

/// Issues and checks challenges.
#[derive(Clone)]
pub struct Pow {
    /// Signs challenges.
    key: String,
    /// Signs the expected key, for the quick check.
    key_signature: String,
    /// Thousands of hashes a solution takes at most; 0 turns the check off.
    work: u32,
}

impl std::fmt::Debug for Pow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pow").field("work", &self.work).finish_non_exhaustive()
    }
}

impl Pow {
    /// Challenges of `work` thousand hashes at most, signed with keys derived
    /// from `secret` (shared by every instance through the database).
    pub fn new(secret: &str, work: u32) -> Self {
        Self { key: format!("challenge:{secret}"), key_signature: format!("challenge-key:{secret}"), work }
    }

    /// Whether bookings need a proof.
    pub fn required(&self) -> bool {
        self.work > 0
    }

    /// A fresh challenge, valid from `now` for a quarter of an hour. Its counter
    /// is drawn from the upper half of the range, so that the work is never
    /// trivial and always about the same.
    pub fn challenge(&self, now: DateTime<Utc>) -> PowChallenge {
        let top = self.work.max(1).saturating_mul(ATTEMPTS_PER_THOUSAND);
        let counter = rand::rng().random_range(top / 2..=top);
        let options = CreateChallengeOptions {
            algorithm: ALGORITHM.into(),
            counter: Some(counter),
            cost: COST,
            expires_at: Some((now + LIFETIME).timestamp()),
            hmac_signature_secret: Some(self.key.clone()),
            hmac_key_signature_secret: Some(self.key_signature.clone()),
            ..CreateChallengeOptions::default()
        };
        let challenge = altcha::create_challenge(options).expect("valid challenge options");
        to_wire(challenge)
    }

    /// The nonce of a valid, unexpired solution (which identifies it), or `None`.
    pub fn verify(&self, proof: &Proof) -> Option<String> {
        let (challenge, solution) = from_wire(proof);
        if challenge.parameters.algorithm != ALGORITHM || challenge.parameters.cost != COST {
            return None;
        }
        let mut options = VerifySolutionOptions::new(&challenge, &solution, self.key.clone());
        options.hmac_key_signature_secret = Some(self.key_signature.clone());
        match altcha::verify_solution(options) {
            Ok(result) if result.verified => Some(challenge.parameters.nonce),
            Ok(_) => None,
            Err(e) => {
                tracing::debug!(error = %e, "unreadable proof of work");
                None
            }
        }
    }
}

fn to_wire(challenge: Challenge) -> PowChallenge {
    let p = challenge.parameters;
    PowChallenge {
        parameters: PowParameters {
            algorithm: p.algorithm,
            cost: p.cost,
            expires_at: p.expires_at,
            key_length: p.key_length,
            key_prefix: p.key_prefix,
            key_signature: p.key_signature,
            nonce: p.nonce,
            salt: p.salt,
        },
        signature: challenge.signature.unwrap_or_default(),
    }
}

fn from_wire(proof: &Proof) -> (Challenge, Solution) {
    let p = &proof.challenge.parameters;
    let parameters = ChallengeParameters {
        algorithm: p.algorithm.clone(),
        cost: p.cost,
        data: None::<BTreeMap<String, serde_json::Value>>,
        expires_at: p.expires_at,
        key_length: p.key_length,
        key_prefix: p.key_prefix.clone(),
        key_signature: p.key_signature.clone(),
        memory_cost: None,
        nonce: p.nonce.clone(),
        parallelism: None,
        salt: p.salt.clone(),
    };
    let challenge = Challenge { parameters, signature: Some(proof.challenge.signature.clone()) };
    let solution = Solution {
        counter: proof.solution.counter,
        derived_key: proof.solution.derived_key.clone(),
        time: None,
    };
    (challenge, solution)
}

#[cfg(test)]
mod tests {
    use protocol::PowSolution;

    use super::*;

    fn solve(challenge: &PowChallenge) -> Option<PowSolution> {
        challenge.solve()
    }

    fn now() -> DateTime<Utc> {
        Utc::now()
    }

    #[test]
    fn a_solved_challenge_verifies_and_names_its_nonce() {
        let pow = Pow::new("secret", 4);
        let challenge = pow.challenge(now());
        let solution = solve(&challenge).expect("solvable");
        let attempts = 4 * ATTEMPTS_PER_THOUSAND;
        assert!((attempts / 2..=attempts).contains(&solution.counter), "the server chose the work");
        let proof = Proof { challenge: challenge.clone(), solution };
        assert_eq!(pow.verify(&proof), Some(challenge.parameters.nonce.clone()));
    }

    #[test]
    fn a_wrong_forged_or_foreign_solution_does_not() {
        let pow = Pow::new("secret", 4);
        let challenge = pow.challenge(now());
        let solution = solve(&challenge).unwrap();
        // The key found is what proves the work (the counter only says where it
        // was found), so it is the key that must be right.
        let mut key = solution.derived_key.clone().into_bytes();
        key[10] = if key[10] == b'0' { b'1' } else { b'0' };
        let wrong = Proof {
            challenge: challenge.clone(),
            solution: PowSolution { derived_key: String::from_utf8(key).unwrap(), ..solution.clone() },
        };
        assert_eq!(pow.verify(&wrong), None);
        let mut cheap = Proof { challenge: challenge.clone(), solution: solution.clone() };
        cheap.challenge.parameters.key_prefix = "00".into();
        assert_eq!(pow.verify(&cheap), None, "the parameters are signed");
        let other = Pow::new("another secret", 4);
        assert_eq!(other.verify(&Proof { challenge, solution }), None);
    }

    #[test]
    fn an_expired_challenge_does_not() {
        let pow = Pow::new("secret", 2);
        let challenge = pow.challenge(now() - chrono::Duration::hours(1));
        let solution = solve(&challenge).unwrap();
        assert_eq!(pow.verify(&Proof { challenge, solution }), None);
    }
}
