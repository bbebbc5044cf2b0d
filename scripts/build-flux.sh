#!/usr/bin/env bash
# Builds Flux's source-controller and kustomize-controller for the real-Flux test tier
# (test/e2e-real/flux-real.test.ts) into .cache/bin/ (git-ignored), from the Go modules pinned in
# tools/flux/, and copies the CRDs of the same releases into .cache/flux-crds/: the controllers need
# their own CRDs installed (the project's crds/gitops/ holds only the kinds it renders).
#
# Reuse works as in scripts/build-kube.sh: a binary is rebuilt only when its .stamp (pinned module
# version + hash of go.mod, go.sum and the Go toolchain) changes. Progress is printed while the
# compiler runs; Go's own GOCACHE and GOMODCACHE are used.
#
# Usage: scripts/build-flux.sh            build what is missing or out of date
#        scripts/build-flux.sh --force    rebuild both
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mod_dir="$root/tools/flux"
crd_dir="$root/.cache/flux-crds"
# shellcheck source=lib/go-build.sh
source "$root/scripts/lib/go-build.sh"
go_build_init build-flux "the Flux controllers" "$@"

downloaded=false
download_modules() {
  if [[ "$downloaded" == false ]]; then
    with_progress "download modules" bash -c 'cd "$1" && go mod download' _ "$mod_dir"
    downloaded=true
  fi
}

# The controllers' main packages are their module roots.
build_one() {
  local name="$1" module="$2"
  local bin="$out_dir/$name" stamp_file="$out_dir/$name.stamp" stamp tmp start
  stamp="$(stamp_of "$mod_dir" "$module")"
  if [[ "$force" == false && -x "$bin" && -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp" ]]; then
    log "$name is up to date (.cache/bin/$name, $module $(pinned_version "$mod_dir" "$module"))"
    return
  fi
  start="$(date +%s)"
  log "building $name from $module $(pinned_version "$mod_dir" "$module") with $(go version | cut -d' ' -f3)"
  download_modules
  tmp="$bin.tmp.$$"
  # the flags of the controllers' own release builds (static, stripped)
  with_progress "$name: compile $module" \
    bash -c 'cd "$1" && CGO_ENABLED=0 go build -mod=readonly -buildvcs=false -trimpath -tags netgo,osusergo,static_build -ldflags="-s -w" -o "$2" "$3"' \
    _ "$mod_dir" "$tmp" "$module"
  mv -f "$tmp" "$bin"
  echo "$stamp" >"$stamp_file"
  log "built .cache/bin/$name in $(($(date +%s) - start))s ($(du -h "$bin" | cut -f1))"
}

# The CRDs shipped in each controller's module (config/crd/bases), replaced as a whole.
copy_crds() {
  local stamp_file="$crd_dir/.stamp" stamp
  stamp="$(stamp_of "$mod_dir" github.com/fluxcd/source-controller) $(stamp_of "$mod_dir" github.com/fluxcd/kustomize-controller)"
  if [[ "$force" == false && -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp" ]]; then
    log "CRDs are up to date (.cache/flux-crds/)"
    return
  fi
  download_modules
  rm -rf "$crd_dir"
  mkdir -p "$crd_dir"
  local module dir
  for module in github.com/fluxcd/source-controller github.com/fluxcd/kustomize-controller; do
    dir="$(cd "$mod_dir" && go list -mod=readonly -m -f '{{.Dir}}' "$module")"
    cp "$dir"/config/crd/bases/*.yaml "$crd_dir/"
  done
  chmod u+w "$crd_dir"/*.yaml
  echo "$stamp" >"$stamp_file"
  log "copied $(ls "$crd_dir"/*.yaml | wc -l) CRDs into .cache/flux-crds/"
}

mkdir -p "$out_dir"
total_start="$(date +%s)"
build_one source-controller github.com/fluxcd/source-controller
build_one kustomize-controller github.com/fluxcd/kustomize-controller
copy_crds
log "done in $(($(date +%s) - total_start))s"
