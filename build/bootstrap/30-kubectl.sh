#!/usr/bin/env bash
# The real kubectl for the Kubernetes conformance tests (toolchain.md section 8): Debian package 'kubectl' (the Google
# Cloud SDK dispatcher with versioned clients kubectl.1.27 ... kubectl.1.33). Installed only when missing; needs root.
set -euo pipefail
if [ -x /usr/lib/google-cloud-sdk/bin/kubectl.1.32 ] || command -v kubectl >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "kubectl is not installed and this is not root: install the Debian package 'kubectl' first" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends kubectl >/dev/null
command -v kubectl >/dev/null
