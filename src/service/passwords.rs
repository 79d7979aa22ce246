//! argon2id password hashing on one dedicated thread per server.
//!
//! Each hash or check takes 19 MiB and tens of milliseconds of CPU by design. On the blocking
//! pool a burst of sign-ins (or of guesses) would take every core and as many 19 MiB blocks as
//! there are requests; on one thread sign-ins queue, memory stays at one block, and the other
//! cores keep serving the inbox.

use std::sync::mpsc;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use tokio::sync::oneshot;

enum Job {
    Hash(String, oneshot::Sender<Option<String>>),
    Verify(String, String, oneshot::Sender<bool>),
}

#[derive(Clone)]
pub struct Passwords {
    jobs: mpsc::Sender<Job>,
}

impl Passwords {
    /// Starts the hashing thread; it ends when the last `Passwords` clone is dropped.
    pub fn start() -> Passwords {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("password-hasher".into())
            .spawn(move || {
                for job in queue {
                    match job {
                        Job::Hash(password, reply) => {
                            let _ = reply.send(hash(&password));
                        }
                        Job::Verify(password, stored, reply) => {
                            let _ = reply.send(verify(&password, &stored));
                        }
                    }
                }
            })
            .expect("the password hashing thread starts");
        Passwords { jobs }
    }

    /// The PHC string of a new argon2id hash with a random salt.
    pub async fn hash(&self, password: String) -> Option<String> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Job::Hash(password, reply)).ok()?;
        answer.await.ok().flatten()
    }

    /// Whether `password` matches the stored PHC string.
    pub async fn verify(&self, password: String, stored: String) -> bool {
        let (reply, answer) = oneshot::channel();
        if self
            .jobs
            .send(Job::Verify(password, stored, reply))
            .is_err()
        {
            return false;
        }
        answer.await.unwrap_or(false)
    }
}

fn hash(password: &str) -> Option<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .ok()
}

fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::Passwords;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_no_other() {
        let passwords = Passwords::start();
        let stored = passwords.hash("correct horse".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(
            passwords
                .verify("correct horse".into(), stored.clone())
                .await
        );
        assert!(!passwords.verify("wrong horse".into(), stored).await);
        assert!(!passwords.verify("x".into(), "not a hash".into()).await);
    }
}
