//go:build tools

// Package tools records the two binaries this module exists to build, so that `go mod tidy` keeps
// their dependencies: `go build github.com/fluxcd/source-controller` and
// `go build github.com/fluxcd/kustomize-controller`.
package tools

import (
	_ "github.com/fluxcd/kustomize-controller"
	_ "github.com/fluxcd/source-controller"
)
