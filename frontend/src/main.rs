//! Entry point of the booking page.

fn main() {}
