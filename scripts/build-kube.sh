#!/usr/bin/env bash
# Builds the real kube-apiserver and etcd for the real-API-server test tier (test/e2e-real/) into
# .cache/bin/ (git-ignored), from the Go modules pinned in tools/kube-apiserver/ and tools/etcd/.
#
# A binary is reused when it exists and its .stamp matches: the pinned module version plus a hash
# of go.mod, go.sum and the Go toolchain. A cold build takes many minutes on 2 cores, so progress
# (step and elapsed seconds) is printed while the compiler runs. Go's own GOCACHE and GOMODCACHE
# are used (set them in the environment to move them); a warm build cache makes a rebuild quick.
#
# Usage: scripts/build-kube.sh            build what is missing or out of date
#        scripts/build-kube.sh --force    rebuild both
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/go-build.sh
source "$root/scripts/lib/go-build.sh"
go_build_init build-kube "kube-apiserver and etcd" "$@"

build_one() {
  local name="$1" tools_dir="$2" module="$3" package="$4" ldflags="$5"
  local mod_dir="$root/$tools_dir" bin="$out_dir/$name" stamp_file="$out_dir/$name.stamp"
  local stamp tmp start
  stamp="$(stamp_of "$mod_dir" "$module")"
  if [[ "$force" == false && -x "$bin" && -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp" ]]; then
    log "$name is up to date (.cache/bin/$name, $module $(pinned_version "$mod_dir" "$module"))"
    return
  fi
  start="$(date +%s)"
  log "building $name from $module $(pinned_version "$mod_dir" "$module") with $(go version | cut -d' ' -f3)"
  tmp="$bin.tmp.$$"
  with_progress "$name: download modules" \
    bash -c 'cd "$1" && go mod download' _ "$mod_dir"
  with_progress "$name: compile $package" \
    bash -c 'cd "$1" && CGO_ENABLED=0 go build -mod=readonly -buildvcs=false -trimpath -ldflags="$2" -o "$3" "$4"' \
    _ "$mod_dir" "$ldflags" "$tmp" "$package"
  mv -f "$tmp" "$bin"
  echo "$stamp" >"$stamp_file"
  log "built .cache/bin/$name in $(($(date +%s) - start))s ($(du -h "$bin" | cut -f1))"
}

mkdir -p "$out_dir"
total_start="$(date +%s)"

kube_version="$(pinned_version "$root/tools/kube-apiserver" k8s.io/kubernetes)"
kube_minor="$(echo "$kube_version" | cut -d. -f2)"
# Stamp the release into the binary as Kubernetes' own build does, so /version and the
# apiserver's emulation version report it instead of v0.0.0-master.
version_pkg=k8s.io/component-base/version
kube_ldflags="-s -w -X $version_pkg.gitVersion=$kube_version -X $version_pkg.gitMajor=1"
kube_ldflags+=" -X $version_pkg.gitMinor=$kube_minor -X $version_pkg.gitTreeState=clean"

build_one etcd tools/etcd go.etcd.io/etcd/server/v3 go.etcd.io/etcd/server/v3 "-s -w"
build_one kube-apiserver tools/kube-apiserver k8s.io/kubernetes k8s.io/kubernetes/cmd/kube-apiserver \
  "$kube_ldflags"

log "done in $(($(date +%s) - total_start))s"
