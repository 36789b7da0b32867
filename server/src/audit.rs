//! Who asks for a change and from where: what the audit trail records beside
//! each change. Every request the engine carries out comes with an `Origin`;
//! the store writes the audit rows in the same transaction as the change, so
//! no change is ever without its row and no row without its change.

use protocol::Actor;

use crate::address::ClientKey;

/// Who made a change, and from which client address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Who.
    pub actor: Actor,
    /// The client's address (an IPv6 client's /64), when a client asked.
    pub address: Option<ClientKey>,
}

impl Origin {
    /// The server itself: holds and offers running out, a new day, retention.
    pub fn system() -> Self {
        Self { actor: Actor::System, address: None }
    }

    /// `actor`, asking from `address`.
    pub fn new(actor: Actor, address: ClientKey) -> Self {
        Self { actor, address: Some(address) }
    }

    /// The actor's kind as the `audit` table keeps it, and its name.
    pub fn columns(&self) -> (&'static str, Option<&str>) {
        match &self.actor {
            Actor::Patient => ("patient", None),
            Actor::ManageLink => ("manageLink", None),
            Actor::WaitlistLink => ("waitlistLink", None),
            Actor::Staff { name } => ("staff", Some(name)),
            Actor::System => ("system", None),
        }
    }

    /// The actor the `audit` table's columns name.
    pub fn actor_of(kind: &str, name: Option<String>) -> Actor {
        match (kind, name) {
            ("patient", _) => Actor::Patient,
            ("manageLink", _) => Actor::ManageLink,
            ("waitlistLink", _) => Actor::WaitlistLink,
            ("staff", Some(name)) => Actor::Staff { name },
            _ => Actor::System,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actors_survive_the_table_columns() {
        let address = ClientKey::of("192.0.2.7".parse().expect("an address"));
        for actor in [
            Actor::Patient,
            Actor::ManageLink,
            Actor::WaitlistLink,
            Actor::Staff { name: "olga".into() },
            Actor::System,
        ] {
            let origin = Origin::new(actor.clone(), address);
            let (kind, name) = origin.columns();
            assert_eq!(Origin::actor_of(kind, name.map(str::to_owned)), actor);
        }
    }
}
