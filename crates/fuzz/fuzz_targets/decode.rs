//! Decoding what a client sends, and what a server sends: any bytes at all must
//! decode to a message or to a typed rejection, never a panic; and whatever
//! decodes must encode back to JSON that decodes to the same message.

#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol::{ClientMessage, ServerMessage};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match server::wire::decode(text) {
        Ok(message) => {
            let again = serde_json::to_string(&message).expect("a decoded message encodes");
            let decoded: ClientMessage = serde_json::from_str(&again).expect("and decodes again");
            assert_eq!(decoded, message);
        }
        Err(rejection) => {
            // The reply to a bad frame is itself a valid server message.
            let reply = server::wire::encode(&rejection.into_message());
            assert!(serde_json::from_str::<ServerMessage>(reply.as_str()).is_ok());
        }
    }
    // What the browser and the Rust client do with whatever the server might send.
    if let Ok(message) = serde_json::from_str::<ServerMessage>(text) {
        let mut replica = protocol::Replica::default();
        replica.apply(message);
    }
});
