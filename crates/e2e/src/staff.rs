//! The test servers' staff: an admin and two receptionists with known
//! passwords, made on every test server's database, for the console's tests
//! and for the staff actions the tests take through the protocol.

use anyhow::{Result, bail};

/// The login name of the test server's admin.
pub const ADMIN: &str = "admin";
/// The admin's password.
pub const ADMIN_PASSWORD: &str = "e2e-admin-password-7c1d9b3a";
/// The test server's receptionists, by name and password.
pub const RECEPTIONISTS: [(&str, &str); 2] =
    [("rita", "e2e-rita-password-5f82"), ("remy", "e2e-remy-password-3e4a")];

/// Makes the test staff's accounts on a server's database: the admin and the
/// receptionists (those that exist already, on a database another instance
/// shares, stay).
pub(crate) async fn make_staff(state: &server::AppState) -> Result<()> {
    let origin = server::audit::Origin::system();
    let receptionists =
        RECEPTIONISTS.map(|(name, password)| (name, password, protocol::StaffRole::Receptionist));
    for (name, password, role) in
        std::iter::once((ADMIN, ADMIN_PASSWORD, protocol::StaffRole::Admin)).chain(receptionists)
    {
        match state.staff().add(name, role, password, state.now(), &origin).await? {
            Ok(()) | Err(server::staff::Refusal::Exists) => {}
            Err(refusal) => bail!("test account {name}: {refusal}"),
        }
    }
    Ok(())
}
