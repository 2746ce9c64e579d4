#!/usr/bin/env bash
# The GitHub Actions workflow schema check used by the CI-example tests: npm package @action-validator/cli, pinned.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
target="$root/.tools/node"
if [ -x "$target/node_modules/.bin/action-validator" ]; then exit 0; fi
mkdir -p "$target"
cd "$target"
[ -f package.json ] || echo '{ "private": true }' > package.json
npm install --no-audit --no-fund --silent @action-validator/cli@0.6.0 >/dev/null
test -x "$target/node_modules/.bin/action-validator"
