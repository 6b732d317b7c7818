#!/usr/bin/env bash
# Toolchains CI needs beyond Node (run as root on Debian bookworm). .ci/rebuild-fixtures.sh builds with them.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
# WASM test plugins (test/fixtures/wasm): Rust for wasm32-unknown-unknown with Debian's rustc and
# packaged serde crates (offline), C with clang + wasi-libc. lld-14 provides rust-lld.
# Redis and PostgreSQL servers for the store and governance tests (scripts/test-services.mjs starts
# throw-away instances on loopback and stops them), Chromium for the UI browser tests.
apt-get install -y --no-install-recommends \
  rustc cargo libstd-rust-dev-wasm32 lld-14 librust-serde-dev librust-serde-json-dev librust-serde-derive-dev \
  clang lld wasi-libc libclang-rt-14-dev-wasm32 \
  redis-server postgresql chromium
