#!/usr/bin/env bash
# Every test, on a fresh Debian machine with Rust: installs what the tests
# need (Debian's chromium and chromedriver for the viewer's browser test),
# then runs the whole suite from the committed Cargo.lock.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi

cargo test --locked "$@"
