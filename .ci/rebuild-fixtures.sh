#!/usr/bin/env bash
# Rebuilds every committed .wasm test plugin from source with the real toolchains, so the tests run
# against freshly built plugins. Runs after `npm ci` (AssemblyScript comes from node_modules).
set -euo pipefail
cd "$(dirname "$0")/.."
node test/fixtures/wasm/build.mjs --strict

# AssemblyScript example plugins built with packages/plugin-sdk (each folder's `npm run build`
# writes build/<name>.wasm, which the examples' tests load).
for example in hello-world-wasm-typescript rate-limiter-wasm content-filter-wasm; do
  (cd "examples/plugins/$example" && npm run --silent build)
done
# examples/plugins/hello-world-wasm-rust: Debian's cargo/rustc, offline crates (its .cargo/config.toml).
(cd examples/plugins/hello-world-wasm-rust \
  && RUSTC=/usr/bin/rustc /usr/bin/cargo build --release --target wasm32-unknown-unknown \
  && mkdir -p build \
  && cp target/wasm32-unknown-unknown/release/hello_world_wasm_rust.wasm build/hello-world-wasm-rust.wasm)
