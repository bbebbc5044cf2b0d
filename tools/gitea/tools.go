//go:build tools

// Package tools records the one binary this module exists to build, so that `go mod tidy` keeps
// its dependencies: `go build gitea.dev` (Gitea's main package is its module root).
package tools

import (
	_ "gitea.dev"
)
