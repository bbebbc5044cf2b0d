#!/usr/bin/env bash
# Builds Gitea for the real-forge test tier (test/e2e-real/gitea.ts) into .cache/bin/gitea
# (git-ignored), from the Go module pinned in tools/gitea/, and copies the files the server reads at
# run time (templates/, options/, public/) into .cache/gitea-static/.
#
# The build has no bindata tag, so those files are read from disk: the Go module zip carries them
# (the web assets built by npm are absent, which the API does not need). Without options/locale
# the server stops at start (a cron task without its translation is fatal). SQLite is the pure-Go
# driver that Gitea 1.27 uses by default, so no CGO and no extra build tags.
#
# Reuse works as in scripts/build-kube.sh: rebuilt only when the .stamp (pinned module version +
# hash of go.mod, go.sum and the Go toolchain) changes. Progress is printed while the compiler runs.
#
# Usage: scripts/build-gitea.sh            build what is missing or out of date
#        scripts/build-gitea.sh --force    rebuild
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mod_dir="$root/tools/gitea"
static_dir="$root/.cache/gitea-static"
module=gitea.dev
# shellcheck source=lib/go-build.sh
source "$root/scripts/lib/go-build.sh"
go_build_init build-gitea "Gitea" "$@"

version="$(pinned_version "$mod_dir" code.gitea.io/gitea)"
version="${version:-$(awk '$1 == "replace" && $2 == "gitea.dev" { print $5 }' "$mod_dir/go.mod")}"
stamp="$(stamp_of "$mod_dir" "$module")"
bin="$out_dir/gitea"

downloaded=false
download_modules() {
  if [[ "$downloaded" == false ]]; then
    with_progress "download modules" bash -c 'cd "$1" && go mod download' _ "$mod_dir"
    downloaded=true
  fi
}

build_binary() {
  local stamp_file="$bin.stamp" tmp start
  if [[ "$force" == false && -x "$bin" && -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp" ]]; then
    log "gitea is up to date (.cache/bin/gitea, $version)"
    return
  fi
  start="$(date +%s)"
  log "building gitea $version with $(go version | cut -d' ' -f3)"
  download_modules
  tmp="$bin.tmp.$$"
  # -X main.Version: what `gitea --version` and /api/v1/version report (Gitea's Makefile does it)
  with_progress "gitea: compile $module" \
    bash -c 'cd "$1" && CGO_ENABLED=0 go build -mod=readonly -buildvcs=false -trimpath -ldflags="-s -w -X main.Version=$2" -o "$3" "$4"' \
    _ "$mod_dir" "${version#v}" "$tmp" "$module"
  mv -f "$tmp" "$bin"
  echo "$stamp" >"$stamp_file"
  log "built .cache/bin/gitea in $(($(date +%s) - start))s ($(du -h "$bin" | cut -f1))"
}

# The run-time files, replaced as a whole (the module cache is read-only: make the copy writable).
copy_static() {
  local stamp_file="$static_dir/.stamp" src
  if [[ "$force" == false && -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp" ]]; then
    log "run-time files are up to date (.cache/gitea-static/)"
    return
  fi
  download_modules
  src="$(cd "$mod_dir" && go list -mod=readonly -m -f '{{if .Replace}}{{.Replace.Dir}}{{else}}{{.Dir}}{{end}}' "$module")"
  rm -rf "$static_dir"
  mkdir -p "$static_dir"
  cp -R "$src/templates" "$src/options" "$src/public" "$static_dir/"
  chmod -R u+w "$static_dir"
  echo "$stamp" >"$stamp_file"
  log "copied templates/, options/ and public/ into .cache/gitea-static/ ($(du -sh "$static_dir" | cut -f1))"
}

mkdir -p "$out_dir"
total_start="$(date +%s)"
build_binary
copy_static
log "done in $(($(date +%s) - total_start))s"
