//! Request ids nobody can guess: the server answers a retried booking with the
//! first answer to the same id, so an id another page could predict would let
//! that page read the answer.

/// A fresh request id: 128 bits from the browser's cryptographic random source,
/// in hex.
pub(crate) fn request_id() -> String {
    let mut bytes = [0u8; 16];
    // Every browser that runs WebAssembly has `crypto.getRandomValues`, and it
    // fails only for arrays over 64 KiB; a page without it cannot book safely.
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .and_then(|c| c.get_random_values_with_u8_array(&mut bytes).ok())
        .expect("crypto.getRandomValues is available");
    hex(&bytes)
}

/// `bytes` in lowercase hex, two digits each.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_keeps_leading_zeros_and_uses_two_digits_a_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
        assert_eq!(hex(&[0u8; 16]).len(), 32, "128 bits make 32 digits");
        assert_eq!(hex(&[]), "");
    }
}
