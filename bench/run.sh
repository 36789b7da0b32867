#!/usr/bin/env bash
# Runs the benchmark set against one server binary and writes one JSON file per
# run under target/bench/. Usage:
#   bench/run.sh LABEL [SERVER_BIN]
# SERVER_BIN defaults to target/release/server; build both first with
#   cargo build --release -p server -p loadtest
# (which builds target/release/floor as well).
set -euo pipefail
cd "$(dirname "$0")/.."
label=${1:?label}
server=${2:-target/release/server}
loadtest=target/release/loadtest
mkdir -p target/bench
# The machine's floor first: what the kernel alone costs to write one update to
# each of 10,000 loopback connections, with no server at all (burst and paced).
target/release/floor --json "target/bench/$label-floor.json"
run() {
    local name=$1; shift
    "$loadtest" --server-bin "$server" --label "$label-$name" --json "target/bench/$label-$name.json" "$@" | tail -n 1
}
# One update at a time to 10,000 clients: fan-out latency and memory per connection.
run fanout-10k --clients 10000 --bookings 60 --rate 2 --bookers 1
# As many clients as one process may hold here (the open-file limit is 20,000).
run capacity-19k --clients 19000 --bookings 10 --rate 2 --bookers 1
# Durable bookings per second while broadcasting to 1,000 clients.
run throughput-1k --server-config bench/clinic.toml --clients 1000 --bookings 10000 --rate 0 --bookers 64
# The same with no listeners besides the 64 booking connections.
run throughput-0 --server-config bench/clinic.toml --clients 0 --bookings 10000 --rate 0 --bookers 64

# PostgreSQL, when BOOKING_BENCH_POSTGRES names a role that may create databases
# (such as postgres://booking:booking@127.0.0.1:5432/postgres): each run gets a
# fresh database `bench`.
if [[ -n "${BOOKING_BENCH_POSTGRES:-}" ]]; then
    fresh() {
        psql "$BOOKING_BENCH_POSTGRES" -qc "DROP DATABASE IF EXISTS bench WITH (FORCE)" -c "CREATE DATABASE bench"
    }
    db="${BOOKING_BENCH_POSTGRES%/*}/bench"
    # One instance: durable bookings per second on PostgreSQL.
    fresh; run pg-throughput-0 --database-url "$db" --server-config bench/clinic.toml \
        --clients 0 --bookings 10000 --rate 0 --bookers 64
    # Two instances: bookings through the first reach 5,000 clients of the second.
    fresh; run pg-cross-fanout-5k --database-url "$db" --instances 2 --clients 5000 --bookings 60 --rate 2 --bookers 1
    # Two instances: 500 bookings/s through the first, fanned out to 1,000 clients
    # of the second.
    fresh; run pg-cross-1k-500 --database-url "$db" --instances 2 --server-config bench/clinic.toml \
        --clients 1000 --bookings 4000 --rate 500 --bookers 32
fi
