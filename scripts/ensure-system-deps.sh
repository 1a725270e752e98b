#!/usr/bin/env bash
# Installs the Debian packages the test suite uses, when they are missing:
# chromium (the live page is checked in a real headless browser) and
# prometheus (for promtool: alerting rules and /metrics output are checked;
# the end-to-end suite also runs Prometheus itself) and prometheus-alertmanager
# (the end-to-end suite delivers slow-phase alerts to a real Alertmanager).
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || need+=(prometheus-alertmanager)
# openssl: the end-to-end suite makes a throw-away certificate for OTLP/gRPC over TLS.
command -v openssl >/dev/null 2>&1 || need+=(openssl)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "ensure-system-deps: missing ${need[*]}; install them (apt-get install ${need[*]}) or run as root" >&2
  exit 1
fi
echo "ensure-system-deps: installing ${need[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
