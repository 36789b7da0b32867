//! Rebuilds the server when a migration is added or changed: `sqlx::migrate!`
//! embeds the files of `migrations/` at compile time, and Cargo would not look
//! at that directory otherwise.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
