// A Go program for backtraces through the vDSO: goroutines spin on
// time.Now, which Go runs on the thread's system stack.  It prints its pid,
// then spins until killed.
package main

import (
	"fmt"
	"os"
	"time"
)

//go:noinline
func spin() int64 {
	var s int64
	for {
		s += time.Now().UnixNano()
	}
}

func main() {
	for i := 0; i < 3; i++ {
		go spin()
	}
	fmt.Println(os.Getpid())
	spin()
}
