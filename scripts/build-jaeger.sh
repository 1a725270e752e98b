#!/usr/bin/env bash
# Builds the Jaeger v2 all-in-one binary used as the real OTLP trace backend
# of the end-to-end tests, from the Go module proxy, through the build module
# in scripts/jaeger (go.mod + go.sum pin github.com/jaegertracing/jaeger).
#
# Idempotent: the binary is cached under a directory keyed by the version,
#   ${STARTUP_TRACER_CACHE:-$HOME/.cache/startup-tracer}/jaeger-<version>/jaeger
# and the build is skipped when it is already there. The path of the binary
# is the only thing printed on stdout; progress goes to stderr.
#
# Environment:
#   STARTUP_TRACER_CACHE  cache root (default: $HOME/.cache/startup-tracer)
#   GO                    go command (default: go on PATH, else /usr/local/go/bin/go)
#   JAEGER_FORCE_BUILD=1  rebuild even when the cached binary exists
set -euo pipefail

JAEGER_VERSION="v1.76.0"
JAEGER_PKG="github.com/jaegertracing/jaeger/cmd/jaeger"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
module_dir="$here/jaeger"
cache_root="${STARTUP_TRACER_CACHE:-${HOME:?HOME is not set}/.cache/startup-tracer}"
out_dir="$cache_root/jaeger-$JAEGER_VERSION"
out="$out_dir/jaeger"

if [[ -x "$out" && "${JAEGER_FORCE_BUILD:-0}" != "1" ]]; then
  printf '%s\n' "$out"
  exit 0
fi

go_cmd="${GO:-}"
if [[ -z "$go_cmd" ]]; then
  if command -v go >/dev/null 2>&1; then
    go_cmd="$(command -v go)"
  elif [[ -x /usr/local/go/bin/go ]]; then
    go_cmd=/usr/local/go/bin/go
  else
    echo "build-jaeger: no Go toolchain found (install Go >= 1.24, or set GO=/path/to/go)" >&2
    exit 127
  fi
fi

if ! go_version="$("$go_cmd" version 2>&1)"; then
  echo "build-jaeger: '$go_cmd version' failed: ${go_version:-no output} (need Go >= 1.24.6)" >&2
  exit 127
fi

# Make sure the build module really pins the version this script names.
if ! grep -q "github.com/jaegertracing/jaeger $JAEGER_VERSION" "$module_dir/go.mod"; then
  echo "build-jaeger: $module_dir/go.mod does not require github.com/jaegertracing/jaeger $JAEGER_VERSION" >&2
  exit 1
fi

mkdir -p "$out_dir"
tmp="$(mktemp "$out_dir/.jaeger.XXXXXX")"
trap 'rm -f "$tmp"' EXIT

echo "build-jaeger: building $JAEGER_PKG@$JAEGER_VERSION with $go_version (this takes many minutes the first time)" >&2
start=$(date +%s)
(
  cd "$module_dir"
  # -mod=mod: go.sum is committed, but let go fill in any missing hashes
  # rather than fail (the module graph itself is fixed by go.mod).
  # CGO off: Jaeger needs no cgo, and a static binary is easier to reuse.
  GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod" CGO_ENABLED=0 \
    "$go_cmd" build -trimpath \
      -ldflags="-s -w -X github.com/jaegertracing/jaeger/internal/version.latestVersion=$JAEGER_VERSION" \
      -o "$tmp" "$JAEGER_PKG"
)
chmod 0755 "$tmp"
mv -f "$tmp" "$out"
trap - EXIT
echo "build-jaeger: built $out in $(( $(date +%s) - start ))s" >&2
printf '%s\n' "$out"
