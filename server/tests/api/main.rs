//! The server's integration tests, as one test binary with a module per area:
//! each starts real servers (in this process, or the binary as a process of its
//! own) on fresh databases and talks to them over real sockets, through the
//! helpers of `common`.

mod common;

mod abuse;
mod audit;
mod bad_input;
mod booking;
mod crash;
mod engine;
mod files;
mod hold_time;
mod hostile;
mod instances;
mod limits;
mod metrics;
mod model;
mod records;
mod resync;
mod scheduling;
mod shutdown;
mod staff;
mod store;
mod waitlist;
