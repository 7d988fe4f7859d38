//go:build tools

// Package esc only pins the esc CLI's module graph; the binary is built with
// `go build github.com/pulumi/esc/cmd/esc` in this directory.
package esc

import _ "github.com/pulumi/esc/cmd/esc"
