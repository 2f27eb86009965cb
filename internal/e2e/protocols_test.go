package e2e

import (
	"context"
	"encoding/json"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/reflection"
	grpcstats "google.golang.org/grpc/stats"

	"github.com/horde-load/horde/internal/target"
	"github.com/horde-load/horde/internal/target/targetpb"
	"github.com/horde-load/horde/internal/target/targettest"
)

// endpoints reads the per-row counts of a --json summary: "METHOD name" →
// requests and failures.
func endpoints(t *testing.T, path string) (reqs, fails map[string]int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Endpoints []struct {
			Method   string `json:"method"`
			Name     string `json:"name"`
			Requests int64  `json:"requests"`
			Failures int64  `json:"failures"`
		} `json:"endpoints"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	reqs, fails = map[string]int64{}, map[string]int64{}
	for _, e := range s.Endpoints {
		reqs[e.Method+" "+e.Name] = e.Requests
		fails[e.Method+" "+e.Name] = e.Failures
	}
	return reqs, fails
}

// A master and two workers run a script that calls the target's gRPC
// service (described by a .proto file the bundle carries to the workers)
// and talks to its WebSocket echo: every row's count equals what the
// target served.
func TestDistributedGRPCAndWebSocket(t *testing.T) {
	t.Parallel()
	host, srv := targettest.Start(t, target.Options{})
	grpcAddr := targettest.StartGRPC(t, srv)
	dir := t.TempDir()
	proto, err := os.ReadFile("../target/targetpb/target.proto")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "protos"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "protos", "target.proto"), proto, 0o644); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "mixed.star")
	if err := os.WriteFile(script, []byte(`
grpc.proto("protos/target.proto")
DELAY = grpc.method("/horde.target.v1.Target/Delay")
ADDR = env("GRPC_ADDR")

def call(u):
    u.grpc(DELAY, {"ms": 5}, addr=ADDR)

def chat(u):
    if "ws" not in u.state:
        u.state["ws"] = u.websocket("/ws/echo")
    ws = u.state["ws"]
    ws.send("ping %d" % u.id)
    ws.recv(name="echo")

users = [user(name="U", tasks={call: 1, chat: 1}, wait=constant(0.02))]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "s.json")
	m, _, addr := startMaster(t, "127.0.0.1:0", script, "-H", host, "-u", "10", "-r", "100", "-t", "4s",
		"--stop-timeout", "5s", "--expect-workers", "2", "--json", out)
	for _, w := range []string{"w1", "w2"} {
		start(t, w, []string{"HORDE_AUTH_TOKEN=" + token, "GRPC_ADDR=" + grpcAddr}, "worker", "--master", addr, "--id", w)
	}
	if code := m.exitCode(60 * time.Second); code != 0 {
		t.Fatalf("master exit %d", code)
	}
	reqs, fails := endpoints(t, out)
	for k, n := range fails {
		if n != 0 {
			t.Errorf("%s: %d failures", k, n)
		}
	}
	want := map[string]string{ // horde's row → the target's count
		"GRPC /horde.target.v1.Target/Delay": "GRPC /horde.target.v1.Target/Delay",
		"WS /ws/echo (connect)":              "WS /ws/echo (connect)",
		"WS /ws/echo (send)":                 "WS /ws/echo",
		"WS echo":                            "WS /ws/echo",
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		served := srv.Counts()
		bad := ""
		for row, key := range want {
			if reqs[row] == 0 || reqs[row] != served[key] {
				bad += row + " "
			}
		}
		if bad == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rows %s differ: horde %v, target %v", bad, reqs, served)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if reqs["WS /ws/echo (connect)"] != 10 {
		t.Errorf("%d sockets for 10 users", reqs["WS /ws/echo (connect)"])
	}
}

// A WebSocket server no one here wrote: gorilla/websocket's own echo
// example, built from the module. Every message horde sent came back as a
// round trip, and the server logged each one it received.
func TestWebSocketAgainstGorillaEcho(t *testing.T) {
	t.Parallel()
	// The example is a main package kept out of builds (//go:build
	// ignore), run by its file as its README says.
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/gorilla/websocket").Output()
	if err != nil {
		t.Fatalf("locating gorilla/websocket: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "echo")
	src := filepath.Join(strings.TrimSpace(string(dir)), "examples", "echo", "server.go")
	build := exec.Command("go", "build", "-o", bin, src)
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building gorilla's echo example: %v\n%s", err, b)
	}
	addr := freeAddr(t)
	srv := launch(t, "gorilla-echo", exec.Command(bin, "-addr", addr))
	t.Cleanup(func() { _ = srv.cmd.Process.Kill(); <-srv.done })
	deadline := time.Now().Add(10 * time.Second)
	for !portOpen(addr) {
		if time.Now().After(deadline) {
			t.Fatalf("the echo example never listened on %s:\n%s", addr, srv.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
	script := writeScript(t, `
def talk(u):
    ws = u.websocket("/echo")
    for i in range(5):
        ws.send("m%d" % i)
        if ws.recv(name="echo") != "m%d" % i:
            fail("wrong echo")
    ws.close()

users = [user(name="U", tasks=[talk], wait=constant(0.05))]
`)
	out := filepath.Join(t.TempDir(), "s.json")
	p := start(t, "run", nil, "run", script, "-H", "http://"+addr, "--headless", "-u", "4", "-r", "100", "-t", "2s",
		"--stop-timeout", "5s", "--json", out)
	if code := p.exitCode(60 * time.Second); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.output())
	}
	reqs, fails := endpoints(t, out)
	if reqs["WS echo"] == 0 || reqs["WS echo"] != reqs["WS /echo (send)"] || reqs["WS /echo (connect)"]*5 != reqs["WS echo"] {
		t.Errorf("rows %v", reqs)
	}
	for k, n := range fails {
		if n != 0 {
			t.Errorf("%s: %d failures", k, n)
		}
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		logged := int64(strings.Count(srv.output(), "recv: m"))
		if logged == reqs["WS /echo (send)"] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server logged %d messages, horde sent %d", logged, reqs["WS /echo (send)"])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func portOpen(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// delayServer answers Delay after the next of its delays; timed calls
// holds what each call took on the server, from its first byte in to its
// status out (a stats handler's Begin to End), so what horde measured on
// top is only its own side and the loopback.
type delayServer struct {
	targetpb.UnimplementedTargetServer
	delays []time.Duration
	next   atomic.Int64
	mu     sync.Mutex
	served []float64 // ms
}

func (s *delayServer) Delay(context.Context, *targetpb.DelayRequest) (*targetpb.DelayReply, error) {
	time.Sleep(s.delays[s.next.Add(1)%int64(len(s.delays))])
	return &targetpb.DelayReply{}, nil
}

type methodKey struct{}

func (s *delayServer) TagRPC(ctx context.Context, info *grpcstats.RPCTagInfo) context.Context {
	return context.WithValue(ctx, methodKey{}, info.FullMethodName)
}
func (s *delayServer) HandleRPC(ctx context.Context, st grpcstats.RPCStats) {
	if end, ok := st.(*grpcstats.End); ok && ctx.Value(methodKey{}) == "/horde.target.v1.Target/Delay" {
		s.mu.Lock()
		s.served = append(s.served, float64(end.EndTime.Sub(end.BeginTime))/float64(time.Millisecond))
		s.mu.Unlock()
	}
}
func (s *delayServer) TagConn(ctx context.Context, _ *grpcstats.ConnTagInfo) context.Context {
	return ctx
}
func (s *delayServer) HandleConn(context.Context, grpcstats.ConnStats) {}

// Percentiles of gRPC calls are within 1% (plus the client's own
// overhead) of an exact computation over the times the server took, as it
// timed them; and every call it served was counted.
func TestGRPCPercentilesMatchExactComputation(t *testing.T) {
	t.Parallel()
	// 1,000 distinct delays, log-uniform between 5 ms and 150 ms, in a
	// scrambled but fixed order.
	const n = 1000
	s := &delayServer{delays: make([]time.Duration, n)}
	for i := range s.delays {
		f := math.Exp(math.Log(5) + (math.Log(150)-math.Log(5))*float64((i*389)%n)/n)
		s.delays[i] = time.Duration(f * float64(time.Millisecond))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(grpc.StatsHandler(s))
	targetpb.RegisterTargetServer(g, s)
	reflection.Register(g)
	go func() { _ = g.Serve(ln) }()
	t.Cleanup(g.Stop)

	script := writeScript(t, `
def call(u):
    u.grpc("/horde.target.v1.Target/Delay")  # to the host: -H http://HOST:PORT

users = [user(name="U", tasks=[call])]
`)
	out := filepath.Join(t.TempDir(), "s.json")
	p := start(t, "run", nil, "run", script, "-H", "http://"+ln.Addr().String(), "-u", "50", "-r", "1000", "-t", "4s",
		"--stop-timeout", "5s", "--headless", "--json", out)
	if code := p.exitCode(60 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Totals struct {
			Requests int64              `json:"requests"`
			Failures int64              `json:"failures"`
			Latency  map[string]float64 `json:"latency_ms"`
		} `json:"totals"`
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	served := s.served
	if int64(len(served)) != sum.Totals.Requests || sum.Totals.Failures != 0 {
		t.Fatalf("server served %d, horde counted %d (%d failed)", len(served), sum.Totals.Requests, sum.Totals.Failures)
	}
	slices.Sort(served)
	if len(served) < 2000 {
		t.Fatalf("only %d calls served; the tail cannot be judged", len(served))
	}
	// As the HTTP test in internal/cli: a slack of 0.1% of the samples in
	// rank for a loaded machine delaying a response here and there, and the
	// client's overhead above the server's time.
	slack := len(served) / 1000
	for _, q := range []struct {
		key string
		q   float64
	}{{"p50", 0.50}, {"p90", 0.90}, {"p95", 0.95}, {"p99", 0.99}, {"p999", 0.999}} {
		rank := int(math.Ceil(q.q*float64(len(served)))) - 1
		exact, upper := served[rank], served[min(rank+slack, len(served)-1)]
		got := sum.Totals.Latency[q.key]
		const overheadMs = 8.0
		if got < exact*0.99 || got > upper*1.01+overheadMs {
			t.Errorf("%s = %.3f ms, exact %.3f ms (%d ranks up: %.3f ms): outside [-1%%, +1%% + %.0f ms]", q.key, got, exact, slack, upper, overheadMs)
		}
	}
}
