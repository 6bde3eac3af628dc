// Goroutines over channels, the garbage collector, a tight loop without calls that only the
// runtime's asynchronous preemption (SIGURG, whose handler rewrites the interrupted pc) lets end,
// and nil dereferences that fault and become panics (the runtime's SIGSEGV handler reads the
// faulting pc and sp from the context and makes it call sigpanic) that recover catches.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

type link struct {
	value int
	next  *link
}

// walk sums a list until it dereferences the nil at its end.
func walk(l *link) (sum int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("recovered: %v", r)
		}
	}()
	for {
		sum += l.value
		l = l.next
	}
}

// store writes through a pointer that is nil on the last call.
func store(counts []*int, words int) (stored int, err error) {
	defer func() {
		if r := recover(); r != nil {
			_, isRuntimeError := r.(runtime.Error)
			err = fmt.Errorf("%v (a runtime.Error: %v)", r, isRuntimeError)
		}
	}()
	for i := 0; i < words; i++ {
		*counts[i%len(counts)] += i
		stored++
	}
	return stored, nil
}

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
	runtime.GOMAXPROCS(4)

	var list *link
	for i := 1; i <= 100; i++ {
		list = &link{value: i, next: list}
	}
	for round := 0; round < 3; round++ {
		// Rescheduled just before: sysmon does not ask this goroutine to yield meanwhile, a
		// request the fault's replay would see where the run did not (see the README).
		runtime.Gosched()
		sum, err := walk(list)
		fmt.Println("walk:", sum, err)
	}
	counts := []*int{new(int), new(int), new(int), nil}
	runtime.Gosched()
	stored, err := store(counts, 1000)
	fmt.Println("store:", stored, *counts[0], *counts[1], *counts[2], err)
	// Faults in other goroutines (on other threads), each recovered there; one at a time, as a
	// fault's replay may fail while other threads write what it reads (see the README).
	panics := make(chan string)
	recovered := map[string]int{}
	for g := 0; g < 4; g++ {
		go func(g int) {
			defer func() { panics <- fmt.Sprint(recover()) }()
			short := list
			for i := 0; i < 10*g; i++ {
				short = short.next
			}
			walk := &link{next: short}
			for walk != nil {
				walk = walk.next.next
			}
		}(g)
		recovered[<-panics]++
	}
	fmt.Println("goroutines:", recovered)
	var last *link
	runtime.Gosched()
	defer func() {
		fmt.Println("final:", recover())
		os.Exit(3)
	}()
	fmt.Println(last.value)
}
