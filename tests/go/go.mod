// Prints Go's own strconv.Quote and IsPrint answers for escc's tests (see main.go).
module escc.local/tests/go

go 1.25.0

// pulumi/esc v0.25.0 declares `go 1.25.8`, so it was built by at least that toolchain, whose
// Unicode tables (15.0.0) this pins. (`go` says 1.25.0 because Go drops a toolchain line equal
// to the go line.) The tests run this program with GOTOOLCHAIN set from this line.
toolchain go1.25.8
