#!/usr/bin/env bash
# Runs the benchmark set against one server binary and writes one JSON file per
# run under target/bench/. Usage:
#   bench/run.sh LABEL [SERVER_BIN]
# SERVER_BIN defaults to target/release/server; build both first with
#   cargo build --release -p server -p loadtest
set -euo pipefail
cd "$(dirname "$0")/.."
label=${1:?label}
server=${2:-target/release/server}
loadtest=target/release/loadtest
mkdir -p target/bench
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
