#!/usr/bin/env bash
# Alertmanager from Debian for the Alertmanager guardrail tests (a rollout guarded by an alert that fires in a real
# Alertmanager, fed by the test Prometheus). Installed only when missing; needs root.
set -euo pipefail
if command -v prometheus-alertmanager >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "prometheus-alertmanager is not installed and this is not root: install the Debian package 'prometheus-alertmanager' first" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends prometheus-alertmanager >/dev/null
# On a systemd host the package starts a service on :9093; the tests start their own instance on a free port.
command -v prometheus-alertmanager >/dev/null
