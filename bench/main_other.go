//go:build !linux

// The benchmark harness reads /proc and starts Debian's FTP servers, so it
// runs on Linux only; elsewhere it says so.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "bench: the benchmark harness runs on Linux only")
	os.Exit(2)
}
