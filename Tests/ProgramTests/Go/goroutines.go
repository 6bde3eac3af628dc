// Goroutines over channels, the garbage collector, and a tight loop without calls that only the
// runtime's asynchronous preemption (SIGURG, whose handler rewrites the interrupted pc) lets end.
package main

import (
	"fmt"
	"runtime"
	"sync"
	"time"
)

type node struct{ left, right *node }

func build(depth int) *node {
	if depth == 0 {
		return &node{}
	}
	return &node{build(depth - 1), build(depth - 1)}
}

func (n *node) count() int {
	if n.left == nil {
		return 1
	}
	return 1 + n.left.count() + n.right.count()
}

func spin(stop *bool) int {
	n := 0
	for !*stop {
		n++
	}
	return n
}

func main() {
	runtime.GOMAXPROCS(4)
	results := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			sum := 0
			for i := 0; i < 100000; i++ {
				sum += i % (w + 2)
			}
			results <- sum
		}(w)
	}
	go func() { wg.Wait(); close(results) }()
	total := 0
	for r := range results {
		total += r
	}
	fmt.Println("goroutines and channels:", total)

	nodes := 0
	for i := 0; i < 20; i++ {
		nodes += build(14).count()
	}
	runtime.GC()
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	fmt.Println("trees:", nodes, "collected:", stats.NumGC > 0)

	// A tight loop without calls: only asynchronous preemption (SIGURG) lets the other goroutine run.
	runtime.GOMAXPROCS(1)
	stop := false
	done := make(chan int)
	go func() { done <- spin(&stop) }()
	time.Sleep(20 * time.Millisecond)
	stop = true
	select {
	case <-done:
		fmt.Println("tight loop preempted: true")
	case <-time.After(10 * time.Second):
		fmt.Println("tight loop preempted: false")
	}
}
