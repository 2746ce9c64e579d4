#!/usr/bin/env bash
# Prometheus from Debian for the guardrail tests (toolchain.md section 7). Installed only when missing; needs root.
set -euo pipefail
if command -v prometheus >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "prometheus is not installed and this is not root: install the Debian package 'prometheus' first" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
# On a systemd host the package starts a service on :9090; the tests start their own instance on a free port.
command -v prometheus >/dev/null
