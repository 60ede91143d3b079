#!/usr/bin/env bash
# Build everything and start `plenum serve` on embedded defaults (SQLite-free so far, in-process SFU, localhost).
# Extra arguments go to `plenum serve`.
source "$(dirname "$0")/lib.sh"
step "web client: npm ci" web_deps
step "web client: build" npm --prefix web-client run build
step "cargo build --release" cargo build --release -p plenum-signaling
echo
echo "Open a join link in your browser. Make one in another terminal with:"
echo "  ./target/release/plenum token --room demo --identity alice --name Alice"
echo
exec ./target/release/plenum serve "$@"
