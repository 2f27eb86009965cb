// Command protoref is the physical reference of the protocol benchmarks
// (bench/protocols.sh): the least a client can do per call, against which
// horde's scripted users are measured.
//
//	protoref grpc -addr HOST:PORT -c 50 -d 10s   # unary Echo, grpc-go's generated client
//	protoref ws -url ws://HOST:PORT/ws/echo -c 50 -d 10s   # WebSocket round trips, gorilla
//
// Each of the c workers has its own connection, as each horde user has,
// and loops send → answer for the duration. It prints one line of JSON:
// {"calls": n, "errors": n, "rps": f, "p50_ms": f, "p99_ms": f}.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/horde-load/horde/internal/target/targetpb"
)

func main() {
	if len(os.Args) < 2 || (os.Args[1] != "grpc" && os.Args[1] != "ws") {
		fmt.Fprintln(os.Stderr, "usage: protoref grpc|ws [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:50051", "gRPC server address")
	url := fs.String("url", "ws://127.0.0.1:8080/ws/echo", "WebSocket URL")
	conns := fs.Int("c", 50, "workers, one connection each")
	dur := fs.Duration("d", 10*time.Second, "how long to run")
	_ = fs.Parse(os.Args[2:])

	var one func() (func() error, func(), error)
	switch os.Args[1] {
	case "grpc":
		one = func() (func() error, func(), error) { return grpcWorker(*addr) }
	case "ws":
		one = func() (func() error, func(), error) { return wsWorker(*url) }
	}
	res, err := run(*conns, *dur, one)
	if err != nil {
		fmt.Fprintln(os.Stderr, "protoref:", err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(res)
}

type result struct {
	Calls  int     `json:"calls"`
	Errors int     `json:"errors"`
	RPS    float64 `json:"rps"`
	P50    float64 `json:"p50_ms"`
	P99    float64 `json:"p99_ms"`
}

// run starts n workers made by one and loops their call until d is over.
func run(n int, d time.Duration, one func() (func() error, func(), error)) (result, error) {
	calls := make([]func() error, n)
	for i := range calls {
		call, closeFn, err := one()
		if err != nil {
			return result{}, err
		}
		defer closeFn()
		calls[i] = call
	}
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	start := time.Now()
	end := start.Add(d)
	var wg sync.WaitGroup
	for _, call := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, 1<<16)
			bad := 0
			for {
				t := time.Now()
				if t.After(end) {
					break
				}
				if call() != nil {
					bad++
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	took := time.Since(start)
	slices.Sort(lat)
	r := result{Calls: len(lat), Errors: errs, RPS: float64(len(lat)) / took.Seconds()}
	if len(lat) > 0 {
		r.P50 = float64(lat[len(lat)/2]) / 1e6
		r.P99 = float64(lat[len(lat)*99/100]) / 1e6
	}
	return r, nil
}

func grpcWorker(addr string) (func() error, func(), error) {
	cc, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, nil, err
	}
	c := targetpb.NewTargetClient(cc)
	req := &targetpb.EchoMessage{Text: "hello"}
	call := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := c.Echo(ctx, req)
		return err
	}
	return call, func() { cc.Close() }, nil
}

func wsWorker(url string) (func() error, func(), error) {
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return nil, nil, err
	}
	msg := []byte("hello")
	call := func() error {
		if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
			return err
		}
		_, _, err := c.ReadMessage()
		return err
	}
	return call, func() { c.Close() }, nil
}
