//! Staff passwords: hashed with argon2 (Argon2id, the crate's default
//! parameters, a random salt, kept as a PHC string), always on a blocking
//! thread: one hash takes tens of milliseconds of a whole core, which the
//! runtime's threads must not spend.

use std::sync::Arc;

use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{Error, Result};

/// Room for as many password checks at once as the machine has cores, so that
/// logins arriving together from many connections or addresses can take
/// neither more cores nor more memory (each check takes 19 MiB) than that.
#[derive(Debug, Clone)]
pub(super) struct Checks(Arc<Semaphore>);

impl Checks {
    /// Room for one check per core (at least one).
    pub(super) fn per_core() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self(Arc::new(Semaphore::new(cores.max(1))))
    }

    /// Room for one check now, if there is any: a login that finds none is
    /// answered at once rather than queued.
    pub(super) fn try_room(&self) -> Option<OwnedSemaphorePermit> {
        self.0.clone().try_acquire_owned().ok()
    }

    /// Room for one check, once there is some: an admin's new password waits
    /// for it.
    pub(super) async fn room(&self) -> Result<OwnedSemaphorePermit> {
        self.0.clone().acquire_owned().await.map_err(|_| Error::Internal("the password checks were closed"))
    }
}

/// A PHC string with the default parameters whose hash no known password
/// gives: a login with an unknown name is checked against it, so that it takes as long
/// as one with a known name and the answer's timing does not tell which names
/// exist.
const DUMMY: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c3RhZmYtZHVtbXktc2FsdA$2hxw+Z9Aka2e56IpF8r8tlqC6Wbq6gT2cVI7/n1bBWs";

/// The PHC string of `password` with a fresh random salt, made in `room`.
pub(super) async fn hash(password: &str, room: OwnedSemaphorePermit) -> Result<String> {
    let password = password.to_owned();
    blocking(room, move || {
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
/// name) it is checked against `DUMMY` all the same, and is wrong. Checked
/// in `room`.
pub(super) async fn verify(password: &str, hash: Option<String>, room: OwnedSemaphorePermit) -> Result<bool> {
    let password = password.to_owned();
    blocking(room, move || {
        let known = hash.is_some();
        let phc = hash.unwrap_or_else(|| DUMMY.to_owned());
        let parsed =
            PasswordHash::new(&phc).map_err(|_| Error::Internal("a stored password hash is unreadable"))?;
        let right = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
        Ok(known && right)
    })
    .await
}

/// Runs `work` on a blocking thread, keeping `room` until it is done (even
/// when whoever waits for it is gone).
async fn blocking<T: Send + 'static>(
    room: OwnedSemaphorePermit,
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(move || {
        let done = work();
        drop(room);
        done
    })
    .await
    .map_err(|_| Error::Internal("a password check stopped half-way"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only_and_is_salted() {
        let checks = Checks::per_core();
        let one = hash("correct horse battery", checks.room().await.unwrap()).await.unwrap();
        let two = hash("correct horse battery", checks.room().await.unwrap()).await.unwrap();
        assert!(one.starts_with("$argon2id$"), "{one}");
        assert_ne!(one, two, "each hash has its own salt");
        assert!(
            verify("correct horse battery", Some(one.clone()), checks.room().await.unwrap()).await.unwrap()
        );
        assert!(!verify("correct horse batterY", Some(one), checks.room().await.unwrap()).await.unwrap());
    }

    #[tokio::test]
    async fn checks_beyond_the_cores_find_no_room_until_one_ends() {
        let checks = Checks(Arc::new(Semaphore::new(2)));
        let first = checks.try_room().unwrap();
        let second = checks.try_room().unwrap();
        assert!(checks.try_room().is_none(), "a third check is not queued");
        let checking = verify("some password here", None, first);
        assert!(checks.try_room().is_none(), "the room is kept while checking");
        assert!(!checking.await.unwrap());
        assert!(checks.try_room().is_some(), "and given back when the check is done");
        drop(second);
    }

    #[tokio::test]
    async fn an_unknown_name_is_checked_against_a_hash_as_costly_as_a_real_one() {
        let dummy = PasswordHash::new(DUMMY).unwrap();
        let checks = Checks::per_core();
        let real = hash("some password here", checks.room().await.unwrap()).await.unwrap();
        let real = PasswordHash::new(&real).unwrap();
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.params, real.params, "the dummy must cost what a real check costs");
        assert!(!verify("", None, checks.room().await.unwrap()).await.unwrap());
        assert!(!verify("some password here", None, checks.room().await.unwrap()).await.unwrap());
    }
}
