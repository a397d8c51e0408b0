// Command spinegw-bench is the load generator behind `make bench`: it
// measures a running spinegw against a bare net/http handler. See package
// spinegw/bench.
package main

import (
	"os"

	"spinegw/bench"
)

func main() {
	os.Exit(bench.Main(os.Args[1:], os.Stdout, os.Stderr))
}
