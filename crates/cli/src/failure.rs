//! How a command can fail, and the exit code each way of failing gives, so
//! that scripts can tell a refusal from a server that cannot be reached.

use protocol::{BookingFailure, ErrorCode};

/// Why a command did not do what it was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The server refused the request: `reason` is the protocol's camelCase
    /// name of it (such as `alreadyBooked`), `message` a sentence for people.
    Refused { reason: String, message: String },
    /// The command line asks for something that cannot be done.
    Usage(String),
    /// No connection to the server could be made.
    CannotConnect(String),
    /// The connection dropped before the answer came.
    Lost(String),
    /// The staff login was refused, or the account may not do this.
    Forbidden(String),
    /// The server failed, or sent what this program does not understand.
    Server(String),
}

impl Failure {
    /// A refusal for one of the protocol's reasons.
    pub(crate) fn refused(reason: BookingFailure) -> Self {
        Self::Refused { reason: camel_case(&reason), message: reason.describe().to_owned() }
    }

    /// The process's exit code for this failure.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::Refused { .. } => 1,
            Self::Usage(_) => 2,
            Self::CannotConnect(_) | Self::Lost(_) => 3,
            Self::Forbidden(_) => 4,
            Self::Server(_) => 5,
        }
    }

    /// The camelCase name scripts read in `--json` output.
    pub(crate) fn reason(&self) -> &str {
        match self {
            Self::Refused { reason, .. } => reason,
            Self::Usage(_) => "usage",
            Self::CannotConnect(_) => "cannotConnect",
            Self::Lost(_) => "connectionLost",
            Self::Forbidden(_) => "forbidden",
            Self::Server(_) => "internal",
        }
    }

    /// What happened, for people.
    pub(crate) fn message(&self) -> &str {
        match self {
            Self::Refused { message, .. }
            | Self::Usage(message)
            | Self::CannotConnect(message)
            | Self::Lost(message)
            | Self::Forbidden(message)
            | Self::Server(message) => message,
        }
    }

    /// The failure for a connection to `url` that could not be opened.
    pub(crate) fn connecting(url: &str, error: &client::Error) -> Self {
        Self::CannotConnect(format!("Cannot connect to {url}: {error}."))
    }

    /// An answer that does not answer the request `request`.
    pub(crate) fn unexpected(request: &str, answer: &protocol::ServerMessage) -> Self {
        match answer {
            protocol::ServerMessage::Error { code, message, .. } => Self::from_server(*code, message),
            other => Self::Server(format!("The server answered {request} with {}.", message_type(other))),
        }
    }

    fn from_server(code: ErrorCode, message: &str) -> Self {
        match code {
            ErrorCode::Forbidden => Self::Forbidden(format!("Not allowed: {message}")),
            ErrorCode::RateLimited => Self::Refused {
                reason: "rateLimited".into(),
                message: format!("Too many requests or wrong secrets; wait a minute. ({message})"),
            },
            _ => Self::Server(format!("The server could not do it: {message}")),
        }
    }
}

impl From<client::Error> for Failure {
    fn from(error: client::Error) -> Self {
        match error {
            client::Error::Server { code, message } => Self::from_server(code, &message),
            client::Error::Decode(e) => Self::Server(format!("The server sent an unreadable message: {e}.")),
            client::Error::WebSocket(_) | client::Error::Closed { .. } => {
                Self::Lost(format!("The connection to the server was lost: {error}."))
            }
        }
    }
}

/// The camelCase wire name of a value that serializes to a string.
pub(crate) fn camel_case(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

/// The `type` of a server message, for saying what came instead of an answer.
fn message_type(message: &protocol::ServerMessage) -> String {
    serde_json::to_value(message)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "an unknown message".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_carries_the_protocol_name_and_sentence_and_exits_with_1() {
        let failure = Failure::refused(BookingFailure::AlreadyBooked);
        assert_eq!(failure.reason(), "alreadyBooked");
        assert_eq!(failure.message(), BookingFailure::AlreadyBooked.describe());
        assert_eq!(failure.exit_code(), 1);
    }

    #[test]
    fn server_errors_map_to_their_exit_codes() {
        let error = |code| client::Error::Server { code, message: "no".into() };
        assert_eq!(Failure::from(error(ErrorCode::Forbidden)).exit_code(), 4);
        assert_eq!(Failure::from(error(ErrorCode::Internal)).exit_code(), 5);
        assert_eq!(Failure::from(error(ErrorCode::RateLimited)).reason(), "rateLimited");
        let closed = client::Error::Closed { code: Some(1001), reason: String::new() };
        assert_eq!(Failure::from(closed).exit_code(), 3);
    }
}
