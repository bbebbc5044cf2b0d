#!/usr/bin/env bash
# Builds the real Argo CD for the real-Argo CD test tier (test/e2e-real/argocd-real.test.ts) into
# .cache/bin/argocd (git-ignored): one multi-call binary from our Go module tools/argocd/ holding
# the application-controller, the repo-server, git-ask-pass, kustomize and an in-memory Redis.
# .cache/argocd/bin/ gets the names it answers to as links (the harness, test/e2e-real/argocd.ts,
# starts the processes through them and puts the folder on their PATH: the repo-server runs
# `kustomize`, and git runs `argocd` as its askpass).
#
# Reuse works as in scripts/build-kube.sh: the binary is rebuilt only when its .stamp (pinned
# argo-cd version + hash of go.mod, go.sum, main.go and the Go toolchain) changes. Progress is
# printed while the compiler runs; Go's own GOCACHE and GOMODCACHE are used, shared with the other
# builds. A cold build compiles some 2,000 packages: many minutes on 2 cores.
#
# Usage: scripts/build-argocd.sh            build what is missing or out of date
#        scripts/build-argocd.sh --force    rebuild
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mod_dir="$root/tools/argocd"
module=github.com/argoproj/argo-cd/v3
# shellcheck source=lib/go-build.sh
source "$root/scripts/lib/go-build.sh"
go_build_init build-argocd "Argo CD" "$@"

link_dir="$root/.cache/argocd/bin"
bin="$out_dir/argocd"
stamp_file="$out_dir/argocd.stamp"
# the names main.go answers to; `argocd` is git's askpass (GIT_ASKPASS=argocd with
# ARGOCD_BINARY_NAME=argocd-git-ask-pass)
names=(argocd-application-controller argocd-repo-server argocd-git-ask-pass argocd-redis kustomize argocd)

stamp="$(stamp_of "$mod_dir" "$module") $(sha256sum "$mod_dir/main.go" | cut -d' ' -f1)"
version="$(pinned_version "$mod_dir" "$module")"

mkdir -p "$out_dir"
total_start="$(date +%s)"
if [[ "$force" == false && -x "$bin" && -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp" ]]; then
  log "argocd is up to date (.cache/bin/argocd, $module $version)"
else
  log "building argocd from $module $version with $(go version | cut -d' ' -f3)"
  with_progress "download modules" bash -c 'cd "$1" && go mod download' _ "$mod_dir"
  tmp="$bin.tmp.$$"
  # Argo CD stamps its version into common as its Makefile does
  ldflags="-s -w -X $module/common.version=${version#v} -X $module/common.gitTag=$version"
  ldflags+=" -X $module/common.gitTreeState=clean"
  compile_start="$(date +%s)"
  with_progress "compile tools/argocd" \
    bash -c 'cd "$1" && CGO_ENABLED=0 go build -mod=readonly -buildvcs=false -trimpath -tags netgo,osusergo -ldflags="$2" -o "$3" .' \
    _ "$mod_dir" "$ldflags" "$tmp"
  mv -f "$tmp" "$bin"
  echo "$stamp" >"$stamp_file"
  log "built .cache/bin/argocd in $(($(date +%s) - compile_start))s ($(du -h "$bin" | cut -f1))"
fi

# the links, replaced as a whole when the stamp changed
if [[ "$force" == true || ! -f "$link_dir/.stamp" || "$(cat "$link_dir/.stamp")" != "$stamp" ]]; then
  rm -rf "$link_dir"
  mkdir -p "$link_dir"
  for name in "${names[@]}"; do
    ln -s ../../bin/argocd "$link_dir/$name"
  done
  echo "$stamp" >"$link_dir/.stamp"
  log "linked ${#names[@]} names to it in .cache/argocd/bin/"
fi
log "done in $(($(date +%s) - total_start))s"
