#!/usr/bin/env bash
# Builds the Go test helpers into .cache/bin/ (git-ignored).
#
# A binary is rebuilt only when its inputs change: the hash of its Go sources, go.mod, go.sum and
# the Go toolchain version is kept next to it in a .stamp file. Modules come from the Go module
# proxy (GOPROXY) on the first build and from the module cache afterwards.
#
# Usage: scripts/build-go-tools.sh            build what is out of date
#        scripts/build-go-tools.sh --force    rebuild everything
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/go-build.sh
source "$root/scripts/lib/go-build.sh"
go_build_init build-go-tools "the test helpers" "$@"

inputs_hash() {
  local src_dir="$1"
  {
    (cd "$src_dir" && find . -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' \) -print0 \
      | LC_ALL=C sort -z | xargs -0 sha256sum)
    go version
    go env GOOS GOARCH
  } | sha256sum | cut -d' ' -f1
}

build_one() {
  local name="$1" src="$2"
  local src_dir="$root/$src" bin="$out_dir/$1" stamp="$out_dir/$1.stamp"
  local hash
  hash="$(inputs_hash "$src_dir")"
  if [[ "$force" == false && -x "$bin" && -f "$stamp" && "$(cat "$stamp")" == "$hash" ]]; then
    log "$name is up to date (.cache/bin/$name)"
    return
  fi
  log "building $name from $src ($(go version | cut -d' ' -f3))..."
  local start tmp
  start="$(date +%s)"
  tmp="$bin.tmp.$$"
  (cd "$src_dir" && CGO_ENABLED=0 go build -mod=readonly -buildvcs=false -trimpath -ldflags="-s -w" -o "$tmp" .)
  mv -f "$tmp" "$bin"
  echo "$hash" >"$stamp"
  log "built .cache/bin/$name in $(($(date +%s) - start))s"
}

mkdir -p "$out_dir"
build_one osv-healthcheck tools/healthcheck
