#!/usr/bin/env bash
# Runs phiguard's whole test suite: unit, integration and end-to-end tests of every crate.
# Installs the system packages the build and the tests need when they are missing (Debian).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v cmake >/dev/null 2>&1 || need+=(cmake)          # pingora builds libz-ng with cmake
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)   # shared rate-limit tests
[ -e /etc/ssl/certs/ca-certificates.crt ] || need+=(ca-certificates)
command -v chromium >/dev/null 2>&1 || need+=(chromium)                 # tests/browser.rs
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi

cargo test --workspace --no-fail-fast "$@"
