//! Tests of the `booking` program: the real binary, run as a user would,
//! against a real server started in this process on a fresh database.

mod common;
mod manage;
mod staff;
mod watch;
