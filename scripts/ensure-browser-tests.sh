#!/usr/bin/env bash
# What tests/e2e/test_frontend.py needs besides Python: Chromium (the Debian package, installed
# with apt-get where missing, as root or with sudo) and the Node packages of tests/e2e/node
# (`npm ci` when its lock file changed). Node 20+ with npm must be there already (CI has it);
# without it the tests fail and say so.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ! -x /usr/bin/chromium ]; then
  echo "ensure-browser-tests: installing Chromium with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq >&2
  as_root apt-get install -y -qq chromium >&2
fi

NODE_DIR=tests/e2e/node
if ! command -v npm >/dev/null 2>&1; then
  echo "ensure-browser-tests: npm is missing; tests/e2e/test_frontend.py will fail (README, 'Tests that need Node and Chromium')" >&2
elif [ ! -f "$NODE_DIR/node_modules/.package-lock.json" ] \
  || [ "$NODE_DIR/package-lock.json" -nt "$NODE_DIR/node_modules/.package-lock.json" ]; then
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund >&2)
fi
