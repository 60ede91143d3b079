#!/usr/bin/env bash
# Run every test: Rust unit, simulation, integration and protocol tests, web client unit tests, and the browser
# end-to-end test (headless Chromium from Debian, installed here when missing).
source "$(dirname "$0")/lib.sh"
T0=$SECONDS
# libopus-dev (and pkg-config to find it): plenum-loadtest encodes Opus with the system libopus.
# postgresql: the API tests run every scenario against a throwaway PostgreSQL cluster too (initdb in a temp dir).
# redis-server: the cluster tests (signaling/tests/cluster*.rs) start a private one on loopback.
# coturn: web-client/e2e/turn.test.mjs runs a real turnserver on loopback; openssl: signaling/tests/turn.rs checks
# the TURN credentials against it. iproute2 (ip, tc) and nftables (nft): web-client/e2e/bandwidth.test.mjs caps a browser's link in a
# network namespace.
# janus: loadtest/tests/janus_smoke.rs runs the load generator against a real Janus (the comparison target).
step "Debian packages (chromium, libopus-dev, postgresql, redis-server, coturn, janus)" need_debs chromium libopus-dev pkg-config postgresql redis-server coturn openssl iproute2 nftables janus
export PLENUM_TEST_REQUIRE_POSTGRES=1
step "deploy files: promtool, systemd-analyze, yamllint, nginx, caddy, coturn" bash scripts/check-deploy.sh
step "web client: npm ci" web_deps
step "test OpenID provider: npm ci" oidc_provider_deps
step "web client: typecheck + build" npm --prefix web-client run build
step "web client: unit tests" npm --prefix web-client test
# One cargo profile (dev, with optimised dependencies) for everything below.
step "cargo build (workspace, all targets)" cargo build --workspace --all-targets --locked
step "cargo test" cargo test --workspace --locked
# Alone, so nothing else competes for the two cores: 2 rooms x 4 real WebRTC participants for ~20 s, then a
# simulcast meeting with mixed tile sizes (~18 s; large tiles get 1280x720, small ones 320x180), against an
# in-process server (zero failed joins, loss < 1 %, media both ways, complete JSON), and bench-forward at fan-out 5.
step "load test and bench-forward smoke run" cargo test -p plenum-loadtest --locked --test ci_load --test bench_smoke -- --ignored
# 3 participants for 10 s through a real Janus VideoRoom on loopback (run --target janus, janus-config), then a
# simulcast meeting of 4 with mixed tiles (substreams picked by tile size).
step "load test against Janus (comparison target)" cargo test -p plenum-loadtest --locked --test janus_smoke -- --ignored
# The web client was built above: run the end-to-end tests directly (npm run e2e would build it again).
step "browser end-to-end tests" env PLENUM_BIN="$ROOT/target/debug/plenum" bash -c "cd web-client && node --test e2e/"
echo "all tests passed in $((SECONDS - T0)) s"
