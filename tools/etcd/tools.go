//go:build tools

// Package tools records the one binary this module exists to build, so that `go mod tidy` keeps
// its dependencies: `go build go.etcd.io/etcd/server/v3`.
package tools

import _ "go.etcd.io/etcd/server/v3"
