//! Domain-to-wire conversions: encoding server messages and decoding client frames,
//! with every way a frame can be wrong mapped to its `error` reply.

use bytes::Bytes;
use protocol::{ClientMessage, ErrorCode, ServerMessage};
use serde_json::Value;

/// The longest `requestId` the server accepts; it is echoed back (and never
/// logged: it is a secret of the client's).
pub const MAX_REQUEST_ID_CHARS: usize = 128;

/// One serialized server message, the text of one WebSocket frame: made once and
/// shared by every connection it goes to (cloning it copies a pointer). The
/// engine and the hub pass these around; only the connection's edge turns them
/// into the WebSocket library's messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame(Bytes);

impl Frame {
    /// Its length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it is empty (it never is, but for a message that failed to encode).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Its bytes: JSON text, valid UTF-8.
    pub fn bytes(&self) -> &Bytes {
        &self.0
    }

    /// Its text.
    pub fn as_str(&self) -> &str {
        // Made from serde_json's output or a `String`, so always UTF-8.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl From<Frame> for Bytes {
    fn from(frame: Frame) -> Self {
        frame.0
    }
}

impl From<String> for Frame {
    fn from(text: String) -> Self {
        Self(text.into())
    }
}

/// Serializes a server message into one frame.
pub fn encode(message: &ServerMessage) -> Frame {
    // Serializing these plain data types cannot fail: every map key is a string.
    Frame(serde_json::to_vec(message).unwrap_or_default().into())
}

/// Why a frame was not a usable client message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The wire error code.
    pub code: ErrorCode,
    /// What was wrong, for people.
    pub message: String,
    /// The frame's `requestId`, when one could be read.
    pub request_id: Option<String>,
}

impl Rejection {
    /// The `error` message answering this rejection.
    pub fn into_message(self) -> ServerMessage {
        ServerMessage::Error { code: self.code, message: self.message, request_id: self.request_id }
    }
}

/// The `requestId` of a frame, read without decoding the rest: for answering a
/// frame that is refused unread (over the rate), so that its sender can tell
/// which request the refusal is for.
pub fn request_id_of(text: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        payload: Option<Payload>,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Payload {
        request_id: Option<String>,
    }
    let envelope: Envelope = serde_json::from_str(text).ok()?;
    envelope.payload?.request_id.filter(|id| id.chars().count() <= MAX_REQUEST_ID_CHARS)
}

/// Decodes one text frame, telling invalid JSON, unknown types and malformed
/// payloads apart.
pub fn decode(text: &str) -> Result<ClientMessage, Rejection> {
    let error = match serde_json::from_str::<ClientMessage>(text) {
        Ok(message) => {
            crate::metrics::message_received(&message);
            return check(message);
        }
        Err(e) => {
            crate::metrics::invalid_message();
            e
        }
    };
    let reject = |code, message: String, request_id| Err(Rejection { code, message, request_id });
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return reject(ErrorCode::InvalidJson, format!("The message is not valid JSON: {error}"), None);
    };
    let request_id = value
        .pointer("/payload/requestId")
        .and_then(Value::as_str)
        .filter(|id| id.chars().count() <= MAX_REQUEST_ID_CHARS)
        .map(str::to_owned);
    match value.get("type").and_then(Value::as_str) {
        None => reject(
            ErrorCode::InvalidMessage,
            "A message must be an object with a string `type` and a `payload`.".into(),
            request_id,
        ),
        Some(name) if !ClientMessage::TYPES.contains(&name) => {
            reject(ErrorCode::UnknownType, format!("Unknown message type `{}`.", truncated(name)), request_id)
        }
        Some(name) => reject(
            ErrorCode::InvalidMessage,
            format!("The `{name}` message is malformed: {error}"),
            request_id,
        ),
    }
}

/// Checks what serde cannot: bounds on echoed fields.
fn check(message: ClientMessage) -> Result<ClientMessage, Rejection> {
    if let ClientMessage::Book { request_id, .. } = &message
        && request_id.chars().count() > MAX_REQUEST_ID_CHARS
    {
        return Err(Rejection {
            code: ErrorCode::InvalidMessage,
            message: format!("`requestId` may be at most {MAX_REQUEST_ID_CHARS} characters."),
            request_id: None,
        });
    }
    Ok(message)
}

fn truncated(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(text: &str) -> ErrorCode {
        decode(text).expect_err("should be rejected").code
    }

    #[test]
    fn the_request_id_of_a_frame_is_read_without_the_rest() {
        let frame = r#"{"type":"book","payload":{"requestId":"r-9","slotId":"x","patient":{}}}"#;
        assert_eq!(request_id_of(frame).as_deref(), Some("r-9"));
        assert_eq!(request_id_of(r#"{"type":"hello","payload":{"lastVersion":1}}"#), None);
        assert_eq!(request_id_of("not json"), None);
        let long = format!(r#"{{"type":"book","payload":{{"requestId":"{}"}}}}"#, "r".repeat(200));
        assert_eq!(request_id_of(&long), None);
    }

    #[test]
    fn each_kind_of_bad_frame_gets_its_own_code() {
        assert_eq!(code_of("{not json"), ErrorCode::InvalidJson);
        assert_eq!(code_of(""), ErrorCode::InvalidJson);
        assert_eq!(code_of("[1,2]"), ErrorCode::InvalidMessage);
        assert_eq!(code_of(r#"{"type":"dance","payload":{}}"#), ErrorCode::UnknownType);
        assert_eq!(code_of(r#"{"type":"book","payload":{"slotId":"x"}}"#), ErrorCode::InvalidMessage);
        assert_eq!(
            code_of(
                r#"{"type":"book","payload":{"requestId":7,"slotId":"x","patient":{"name":"a","phone":"1"}}}"#
            ),
            ErrorCode::InvalidMessage
        );
    }

    #[test]
    fn a_malformed_message_keeps_its_request_id() {
        let rejection = decode(r#"{"type":"book","payload":{"requestId":"r-9","slotId":5}}"#).unwrap_err();
        assert_eq!(rejection.request_id.as_deref(), Some("r-9"));
    }

    #[test]
    fn an_oversized_request_id_is_refused() {
        let id = "x".repeat(MAX_REQUEST_ID_CHARS + 1);
        let text = format!(
            r#"{{"type":"book","payload":{{"requestId":"{id}","slotId":"s","patient":{{"name":"a","phone":"12345"}}}}}}"#
        );
        assert_eq!(code_of(&text), ErrorCode::InvalidMessage);
    }
}
