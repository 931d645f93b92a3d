// A Go program for the tests: goroutines call time.Now (Go calls the vDSO
// on the thread's system stack) through outer and inner.
//
//	vdsospin [SECONDS [GOROUTINES [ready]]]
//
// runs GOROUTINES goroutines (default 3) besides the main one, stops after
// SECONDS (0, the default: never) and with "ready" says so on its standard
// output once the vDSO was called.
package main

import (
	"os"
	"strconv"
	"time"
)

//go:noinline
func inner(n int) int64 {
	var s int64
	for i := 0; i < n; i++ {
		s += time.Now().UnixNano() & 1
	}
	return s
}

//go:noinline
func outer(n int) int64 { return inner(n) }

//go:noinline
func spin(end time.Time) int64 {
	var s int64
	for end.IsZero() || time.Now().Before(end) {
		s += outer(1000)
	}
	return s
}

func main() {
	secs, extra := 0.0, 3
	if len(os.Args) > 1 {
		secs, _ = strconv.ParseFloat(os.Args[1], 64)
	}
	if len(os.Args) > 2 {
		extra, _ = strconv.Atoi(os.Args[2])
	}
	var end time.Time
	if secs > 0 {
		end = time.Now().Add(time.Duration(secs * float64(time.Second)))
	}
	for i := 0; i < extra; i++ {
		go spin(end)
	}
	outer(1000)
	if len(os.Args) > 3 && os.Args[3] == "ready" {
		os.Stdout.WriteString("ready\n")
	}
	if spin(end) < 0 {
		os.Exit(1)
	}
}
