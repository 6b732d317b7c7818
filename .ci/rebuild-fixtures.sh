#!/usr/bin/env bash
# Rebuilds every committed .wasm test plugin from source with the real toolchains, so the tests run
# against freshly built plugins. Runs after `npm ci` (AssemblyScript comes from node_modules).
set -euo pipefail
cd "$(dirname "$0")/.."
node test/fixtures/wasm/build.mjs --strict
