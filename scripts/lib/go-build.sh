# Shared by the scripts/build-*.sh scripts (sourced, not run). A binary is reused while its stamp
# matches: the pinned module version (or the sources) plus a hash of go.mod, go.sum and the Go
# toolchain.

# The common start of every build script: sets out_dir and force (from --force), defines log()
# with the script's name, and stops with a clear message when Go is missing.
# Usage: go_build_init <name> <what it builds> "$@"
go_build_init() {
  local name="$1" what="$2"
  shift 2
  out_dir="$root/.cache/bin"
  force=false
  if [[ "${1:-}" == "--force" ]]; then
    force=true
  fi
  eval "log() { echo \"$name: \$*\"; }"
  if ! command -v go >/dev/null 2>&1; then
    log "'go' is not on PATH. Install Go 1.26 or newer (https://go.dev/dl/) to build $what." >&2
    exit 127
  fi
}

# The version a tools module pins for a module, read from its go.mod require line.
pinned_version() {
  local mod_dir="$1" module="$2"
  awk -v m="$module" '($1 == "require" && $2 == m) { print $3 } ($1 == m && $2 ~ /^v/) { print $2 }' \
    "$mod_dir/go.mod" | head -n1
}

stamp_of() {
  local mod_dir="$1" module="$2"
  local hash
  hash="$({
    cat "$mod_dir/go.mod" "$mod_dir/go.sum"
    go version
    go env GOOS GOARCH
  } | sha256sum | cut -d' ' -f1)"
  echo "$module $(pinned_version "$mod_dir" "$module") $hash"
}

# Runs a command while printing "<step>: still running (Ns)" every 30 seconds: cold builds take
# minutes on 2 cores and CI must show that they are alive.
with_progress() {
  local step="$1"
  shift
  local start ticker rc
  start="$(date +%s)"
  log "$step..."
  (
    # the sleep is ended with the ticker, so that no stray process holds our stdout open
    trap 'kill "$nap" 2>/dev/null; exit 0' TERM
    while :; do
      sleep 30 >/dev/null 2>&1 &
      nap=$!
      wait "$nap"
      log "$step: still running ($(($(date +%s) - start))s)"
    done
  ) &
  ticker=$!
  set +e
  "$@"
  rc=$?
  set -e
  kill "$ticker" 2>/dev/null || true
  wait "$ticker" 2>/dev/null || true
  if [[ $rc -ne 0 ]]; then
    log "$step failed after $(($(date +%s) - start))s (exit $rc)" >&2
    return "$rc"
  fi
  log "$step done in $(($(date +%s) - start))s"
}
