// Command spinegw-bench is the load generator behind `make bench` and
// `make bench-upload`: it measures a running spinegw against a bare net/http
// handler, and LA Upload processing against a bare SQLite insert. See
// package spinegw/bench.
package main

import (
	"os"

	"spinegw/bench"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "upload" {
		os.Exit(bench.UploadMain(os.Args[2:], os.Stdout, os.Stderr))
	}
	os.Exit(bench.Main(os.Args[1:], os.Stdout, os.Stderr))
}
