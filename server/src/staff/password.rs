//! Staff passwords: hashed with argon2 (Argon2id, the crate's default
//! parameters, a random salt, kept as a PHC string), always on a blocking
//! thread: one hash takes tens of milliseconds of a whole core, which the
//! runtime's threads must not spend.

use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};

use crate::{Error, Result};

/// A PHC string with the default parameters whose hash no known password
/// gives: a login with an unknown name is checked against it, so that it takes as long
/// as one with a known name and the answer's timing does not tell which names
/// exist.
const DUMMY: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c3RhZmYtZHVtbXktc2FsdA$2hxw+Z9Aka2e56IpF8r8tlqC6Wbq6gT2cVI7/n1bBWs";

/// The PHC string of `password` with a fresh random salt.
pub(super) async fn hash(password: &str) -> Result<String> {
    let password = password.to_owned();
    blocking(move || {
        let salt: [u8; 16] = rand::random();
        let salt =
            SaltString::encode_b64(&salt).map_err(|_| Error::Internal("a salt could not be encoded"))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|_| Error::Internal("a password could not be hashed"))
    })
    .await
}

/// Whether `password` is the one `hash` was made of; with no hash (an unknown
/// name) it is checked against `DUMMY` all the same, and is wrong.
pub(super) async fn verify(password: &str, hash: Option<String>) -> Result<bool> {
    let password = password.to_owned();
    blocking(move || {
        let known = hash.is_some();
        let phc = hash.unwrap_or_else(|| DUMMY.to_owned());
        let parsed =
            PasswordHash::new(&phc).map_err(|_| Error::Internal("a stored password hash is unreadable"))?;
        let right = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
        Ok(known && right)
    })
    .await
}

/// Runs `work` on a blocking thread.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| Error::Internal("a password check stopped half-way"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only_and_is_salted() {
        let one = hash("correct horse battery").await.unwrap();
        let two = hash("correct horse battery").await.unwrap();
        assert!(one.starts_with("$argon2id$"), "{one}");
        assert_ne!(one, two, "each hash has its own salt");
        assert!(verify("correct horse battery", Some(one.clone())).await.unwrap());
        assert!(!verify("correct horse batterY", Some(one)).await.unwrap());
    }

    #[tokio::test]
    async fn an_unknown_name_is_checked_against_a_hash_as_costly_as_a_real_one() {
        let dummy = PasswordHash::new(DUMMY).unwrap();
        let real = hash("some password here").await.unwrap();
        let real = PasswordHash::new(&real).unwrap();
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.params, real.params, "the dummy must cost what a real check costs");
        assert!(!verify("", None).await.unwrap());
        assert!(!verify("some password here", None).await.unwrap());
    }
}
