#!/usr/bin/env bash
# promtool (checks the guardrail presets as Prometheus alerting rules) and PyYAML for Debian's python3 (reads the CI
# examples as YAML). The tests require both; each is installed only when missing, from Debian, as root.
set -euo pipefail
missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)   # Debian's prometheus package ships promtool
/usr/bin/python3 -c 'import yaml' >/dev/null 2>&1 || missing+=(python3-yaml)
if [ "${#missing[@]}" -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "missing Debian package(s) ${missing[*]} and this is not root: install them first" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
command -v promtool >/dev/null
/usr/bin/python3 -c 'import yaml'
