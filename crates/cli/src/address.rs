//! Where the server is: the WebSocket URL from a page address or a `ws://`
//! URL, and the server and secret from a booking's manage link.

use protocol::ManageToken;

use crate::failure::Failure;

/// A booking server, as both its WebSocket and its page see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Server {
    /// The WebSocket URL, such as `ws://127.0.0.1:8080/ws`.
    pub(crate) ws: String,
    /// The page's origin, such as `http://127.0.0.1:8080`, for manage links.
    pub(crate) page: String,
}

impl Server {
    /// The server at `address`: the page's address (`http://host:port/`,
    /// `https://…`, or just `host:port`), whose WebSocket is `/ws` as the page
    /// opens it, or a `ws://` or `wss://` URL, used as it is.
    pub(crate) fn parse(address: &str) -> Result<Self, Failure> {
        let address = address.trim();
        let (scheme, rest) = match address.split_once("://") {
            Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
            None => ("http".to_owned(), address),
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (host, path) = rest.split_at(end);
        if host.is_empty() || host.contains(char::is_whitespace) {
            return Err(Failure::Usage(format!("`{address}` is not a server address.")));
        }
        let (ws_scheme, page_scheme) = match scheme.as_str() {
            "http" | "ws" => ("ws", "http"),
            "https" | "wss" => ("wss", "https"),
            _ => {
                return Err(Failure::Usage(format!(
                    "`{address}` is not a server address: use http://, https://, ws:// or wss://."
                )));
            }
        };
        let ws_path = match scheme.as_str() {
            "ws" | "wss" if !matches!(path, "" | "/") => path,
            _ => "/ws",
        };
        Ok(Self { ws: format!("{ws_scheme}://{host}{ws_path}"), page: format!("{page_scheme}://{host}") })
    }

    /// The manage link of a booking on this server, as the page builds it.
    pub(crate) fn manage_link(&self, token: &str) -> String {
        format!("{}/manage#{token}", self.page)
    }
}

/// The server and the secret of a manage link (`http://host/manage#secret`).
pub(crate) fn manage_link(link: &str) -> Result<(Server, ManageToken), Failure> {
    let not_a_link = || {
        Failure::Usage(format!(
            "`{link}` is not a manage link: it looks like https://clinic.example/manage#…"
        ))
    };
    let (address, token) = link.trim().split_once('#').ok_or_else(not_a_link)?;
    if token.is_empty() || token.contains(['/', '?', '#', ' ']) {
        return Err(not_a_link());
    }
    Ok((Server::parse(address)?, token.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_address_leads_to_its_websocket() {
        let server = Server::parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(server.ws, "ws://127.0.0.1:8080/ws");
        assert_eq!(server.page, "http://127.0.0.1:8080");
        assert_eq!(Server::parse("HTTPS://clinic.example/staff?x=1").unwrap().ws, "wss://clinic.example/ws");
        assert_eq!(Server::parse("localhost:9000").unwrap().ws, "ws://localhost:9000/ws");
    }

    #[test]
    fn a_websocket_url_is_used_as_given() {
        let server = Server::parse("wss://clinic.example/booking/ws").unwrap();
        assert_eq!(server.ws, "wss://clinic.example/booking/ws");
        assert_eq!(server.page, "https://clinic.example");
        assert_eq!(Server::parse("ws://[::1]:8080").unwrap().ws, "ws://[::1]:8080/ws");
    }

    #[test]
    fn what_is_no_address_is_a_usage_error() {
        for address in ["", "ftp://host/", "http:///ws", "two words"] {
            assert_eq!(Server::parse(address).map_err(|f| f.exit_code()), Err(2), "{address}");
        }
    }

    #[test]
    fn a_manage_link_gives_the_server_and_the_secret() {
        let (server, token) = manage_link("http://127.0.0.1:8080/manage#9f2c4e0b7a1d").unwrap();
        assert_eq!(server.ws, "ws://127.0.0.1:8080/ws");
        assert_eq!(token, "9f2c4e0b7a1d");
        assert_eq!(server.manage_link(&token), "http://127.0.0.1:8080/manage#9f2c4e0b7a1d");
        assert!(manage_link("http://127.0.0.1:8080/manage").is_err());
        assert!(manage_link("http://127.0.0.1:8080/manage#").is_err());
    }
}
