package script

import (
	"encoding/pem"
	"errors"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	grpccreds "google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/horde-load/horde/internal/httpx"
	"github.com/horde-load/horde/internal/scenario"
	"github.com/horde-load/horde/internal/stats"
	"github.com/horde-load/horde/internal/target"
	"github.com/horde-load/horde/internal/target/targettest"
)

// targetProto is the target's service description, as a script ships it.
func targetProto(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("../target/targetpb/target.proto")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// grpcRun loads src (with extra files), runs its task t once on a user and
// returns the samples, u.state and the error.
func grpcRun(t *testing.T, src string, extra ...string) ([]stats.Sample, map[string]any, error) {
	t.Helper()
	sc := mustLoad(t, src+"\nusers = [user(name='U', tasks=[t])]\n", extra...)
	vu, rec := newVU(t, 1, "")
	err := task(t, sc, "t")(t.Context(), vu)
	state := map[string]any{}
	if st := vu.Local.(*vuState).user.state; st != nil {
		state = toGo(st).(map[string]any)
	}
	return rec.all(), state, err
}

const echoCall = `
def t(u):
    r = u.grpc("/horde.target.v1.Target/Echo", {
        "text": "héllo", "payload": b"\x00\xff", "number": -9007199254740993, "ratio": 0.25, "flag": True,
        "kind": "KIND_LARGE", "tags": ["a", "b"], "labels": {"k": "v", "a": "b"},
        "inner": {"name": "n", "value": 7}, "items": [{"name": "i1"}, {"value": 2}], "count": 0,
    }, addr=ADDR, metadata={"x-trace": "abc", "other": "no"}, timeout=5)
    u.state["ok"] = r.ok
    u.state["status"] = r.status
    u.state["code"] = r.code
    u.state["msg"] = r.message
    u.state["bytes"] = r.bytes
`

// A unary call described by a .proto file shipped with the script: every
// kind of field goes and comes back, metadata reaches the server, and the
// call is one "GRPC /pkg.Service/Method" sample that the target counted.
func TestGRPCUnaryFromProtoFile(t *testing.T) {
	t.Parallel()
	_, srv := targettest.Start(t, target.Options{})
	addr := targettest.StartGRPC(t, srv)
	samples, state, err := grpcRun(t, `
grpc.proto("target.proto")
ADDR = "`+addr+`"
`+echoCall, "target.proto", targetProto(t))
	if err != nil {
		t.Fatal(err)
	}
	checkEcho(t, state)
	if len(samples) != 1 || samples[0].Method != "GRPC" || samples[0].Name != "/horde.target.v1.Target/Echo" ||
		samples[0].Err != "" || samples[0].Bytes != state["bytes"].(int64) || samples[0].Bytes == 0 {
		t.Errorf("samples %+v", samples)
	}
	waitCounts(t, srv, map[string]int64{"GRPC /horde.target.v1.Target/Echo": 1})
}

func checkEcho(t *testing.T, state map[string]any) {
	t.Helper()
	if state["ok"] != true || state["status"] != "OK" || state["code"] != int64(0) {
		t.Fatalf("state %v", state)
	}
	m := state["msg"].(map[string]any)
	want := map[string]any{"text": "héllo", "number": int64(-9007199254740993), "ratio": 0.25, "flag": true,
		"kind": "KIND_LARGE", "count": int64(0)}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %#v, want %#v", k, m[k], v)
		}
	}
	if tags := m["tags"].([]any); len(tags) != 2 || tags[1] != "b" {
		t.Errorf("tags %v", tags)
	}
	if l := m["labels"].(map[string]any); len(l) != 2 || l["k"] != "v" {
		t.Errorf("labels %v", l)
	}
	if in := m["inner"].(map[string]any); in["name"] != "n" || in["value"] != int64(7) {
		t.Errorf("inner %v", in)
	}
	if items := m["items"].([]any); len(items) != 2 || items[1].(map[string]any)["value"] != int64(2) {
		t.Errorf("items %v", items)
	}
	if md := m["metadata"].(map[string]any); len(md) != 1 || md["x-trace"] != "abc" {
		t.Errorf("metadata the server saw: %v", md)
	}
}

// The same call with no .proto: the service is described by the
// server's reflection.
func TestGRPCUnaryByReflection(t *testing.T) {
	t.Parallel()
	_, srv := targettest.Start(t, target.Options{})
	addr := targettest.StartGRPC(t, srv)
	_, state, err := grpcRun(t, `ADDR = "grpc://`+addr+`"`+echoCall)
	if err != nil {
		t.Fatal(err)
	}
	checkEcho(t, state)
	waitCounts(t, srv, map[string]int64{"GRPC /horde.target.v1.Target/Echo": 1})
}

// Status codes other than OK are failures named by the code, unless
// expect= lists them; a deadline is DEADLINE_EXCEEDED; a stream is read
// to its end, and one that never ends is cut by its timeout, recorded.
func TestGRPCStatusesDeadlinesAndStreams(t *testing.T) {
	t.Parallel()
	_, srv := targettest.Start(t, target.Options{})
	addr := targettest.StartGRPC(t, srv)
	samples, state, err := grpcRun(t, `
S = "/horde.target.v1.Target/"
def t(u):
    r = u.grpc(S + "Status", {"code": 5, "message": "no such thing"}, addr=ADDR)
    u.state["nf"] = [r.ok, r.status, r.code, r.error, r.message]
    u.state["expected"] = u.grpc(S + "Status", {"code": 5}, addr=ADDR, expect="NOT_FOUND", name="expected").ok
    u.state["slow"] = u.grpc(S + "Delay", {"ms": 5000}, addr=ADDR, timeout=0.1).status
    s = u.grpc_stream(S + "Stream", {"count": 4, "size": 3}, addr=ADDR)
    u.state["stream"] = [m["seq"] for m in s]
    u.state["stream_ok"] = s.ok
    h = u.grpc_stream(S + "Stream", {"count": 2, "hang": True}, addr=ADDR, timeout=0.2, name="hang")
    u.state["hang"] = [h.status, len(h.messages)]
ADDR = "`+addr+`"
`)
	if err != nil {
		t.Fatal(err)
	}
	if nf := state["nf"].([]any); nf[0] != false || nf[1] != "NOT_FOUND" || nf[2] != int64(5) || nf[3] != "no such thing" || nf[4] != nil {
		t.Errorf("NOT_FOUND call: %v", nf)
	}
	if state["expected"] != true || state["slow"] != "DEADLINE_EXCEEDED" || state["stream_ok"] != true {
		t.Errorf("state %v", state)
	}
	if s := state["stream"].([]any); len(s) != 4 || s[3] != int64(4) {
		t.Errorf("stream %v", s)
	}
	if h := state["hang"].([]any); h[0] != "DEADLINE_EXCEEDED" || h[1] != int64(2) {
		t.Errorf("hanging stream %v", h)
	}
	count, failed := rows(samples)
	wantFailed := map[string]int{
		"GRPC /horde.target.v1.Target/Status: NOT_FOUND":        1,
		"GRPC /horde.target.v1.Target/Delay: DEADLINE_EXCEEDED": 1,
		"GRPC hang: DEADLINE_EXCEEDED":                          1,
	}
	for k, n := range wantFailed {
		if failed[k] != n {
			t.Errorf("failures %v, want %v", failed, wantFailed)
			break
		}
	}
	if count["GRPC expected"] != 1 || count["GRPC /horde.target.v1.Target/Stream"] != 1 || len(samples) != 5 {
		t.Errorf("rows %v", count)
	}
	for _, s := range samples {
		if s.Name == "/horde.target.v1.Target/Stream" && s.Bytes < 4*3 {
			t.Errorf("stream of %d bytes", s.Bytes)
		}
	}
}

// Bad input: a .proto that does not compile is a load error at its own
// line and column; a method grpc.method() cannot find is one at the
// script's line; a field of the wrong type is a script error naming it; a
// method missing from a known service, and a server that is not there,
// are recorded failures.
func TestGRPCBadInput(t *testing.T) {
	t.Parallel()
	le := loadErr(t, `grpc.proto("bad.proto")
users = []`, "bad.proto", "syntax = \"proto3\";\nmessage M {\n  strin x = 1;\n}\n")
	if le.File != "bad.proto" || le.Line != 3 || le.Col != 3 {
		t.Errorf("bad .proto: %v (at %s:%d:%d)", le, le.File, le.Line, le.Col)
	}
	le = loadErr(t, `grpc.proto("target.proto")
X = grpc.method("/horde.target.v1.Target/Ech")
users = []`, "target.proto", targetProto(t))
	if le.Line != 2 || !strings.Contains(le.Msg, "has no method Ech (methods: Delay, Echo, Status, Stream)") {
		t.Errorf("unknown method: %v", le)
	}
	le = loadErr(t, `grpc.proto("missing.proto")
users = []`)
	if !strings.Contains(le.Msg, "missing.proto") || le.File != "main.star" || le.Line != 1 {
		t.Errorf("missing file: %v", le)
	}

	_, srv := targettest.Start(t, target.Options{})
	addr := targettest.StartGRPC(t, srv)
	_, _, err := grpcRun(t, `
grpc.proto("target.proto")
def t(u):
    u.grpc("/horde.target.v1.Target/Echo", {"number": str(7)}, addr="`+addr+`")
`, "target.proto", targetProto(t))
	var re *RuntimeError
	if !errors.As(err, &re) || !strings.Contains(re.Msg, "horde.target.v1.EchoMessage.number: want int, got string") ||
		!strings.Contains(re.Traceback(), "main.star:4:") {
		t.Errorf("wrong field type: %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	samples, state, err := grpcRun(t, `
grpc.proto("target.proto")
def t(u):
    typo = "/horde.target.v1.Target/Ech"  # in a variable: judged at run time
    u.state["typo"] = u.grpc(typo, addr="`+addr+`").ok
    u.state["down"] = u.grpc("/horde.target.v1.Target/Echo", addr="`+dead+`", timeout=5).status
`, "target.proto", targetProto(t))
	if err != nil {
		t.Fatal(err)
	}
	if state["typo"] != false || state["down"] != "UNAVAILABLE" {
		t.Errorf("state %v", state)
	}
	_, failed := rows(samples)
	if failed["GRPC /horde.target.v1.Target/Ech: service horde.target.v1.Target has no method Ech (methods: Delay, Echo, Status, Stream)"] != 1 ||
		failed["GRPC /horde.target.v1.Target/Echo: UNAVAILABLE: connection refused"] != 1 {
		t.Errorf("failures %v", failed)
	}
}

// A script on disk with its .proto files in a directory, one importing
// another: the bundle carries them, and a worker loads the bundle alone.
func TestGRPCProtoFilesTravelInTheBundle(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("protos/common/kinds.proto", "syntax = \"proto3\";\npackage demo.common;\nmessage Ping { string text = 1; }\n")
	write("protos/svc/demo.proto", "syntax = \"proto3\";\npackage demo;\nimport \"common/kinds.proto\";\n"+
		"service Demo { rpc Call(demo.common.Ping) returns (demo.common.Ping); }\n")
	write("main.star", `p = grpc.proto("protos/svc/demo.proto", import_paths=["protos"])
SERVICES = p.services
def t(u):
    pass
users = [user(name="U", tasks=[t])]
`)
	sc, err := Load(filepath.Join(dir, "main.star"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"main.star", "protos/svc/demo.proto", "protos/common/kinds.proto"} {
		if _, ok := sc.Files[f]; !ok {
			t.Errorf("bundle lacks %s: %v", f, keys(sc.Files))
		}
	}
	if _, err := LoadFiles(sc.Files, "main.star", Options{}); err != nil {
		t.Errorf("a worker could not load the bundle: %v", err)
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A server no one here wrote: grpc-go's own health service, described by
// its reflection.
func TestGRPCHealthServer(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	hs := health.NewServer()
	hs.SetServingStatus("shop", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(g, hs)
	reflection.Register(g)
	go func() { _ = g.Serve(ln) }()
	t.Cleanup(g.Stop)
	samples, state, err := grpcRun(t, `
H = "/grpc.health.v1.Health/Check"
def t(u):
    u.state["all"] = u.grpc(H, {"service": ""}, addr=ADDR).message["status"]
    u.state["shop"] = u.grpc(H, {"service": "shop"}, addr=ADDR).message["status"]
    u.state["other"] = u.grpc(H, {"service": "nope"}, addr=ADDR).status
ADDR = "`+ln.Addr().String()+`"
`)
	if err != nil {
		t.Fatal(err)
	}
	if state["all"] != "SERVING" || state["shop"] != "NOT_SERVING" || state["other"] != "NOT_FOUND" {
		t.Errorf("state %v", state)
	}
	count, failed := rows(samples)
	if count["GRPC /grpc.health.v1.Health/Check"] != 3 || failed["GRPC /grpc.health.v1.Health/Check: NOT_FOUND"] != 1 {
		t.Errorf("rows %v failures %v", count, failed)
	}
}

// A user's gRPC connection is reused by its calls and closed when the
// user stops.
func TestGRPCConnectionPerUserClosedAtStop(t *testing.T) {
	t.Parallel()
	_, srv := targettest.Start(t, target.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: ln, closed: make(chan struct{}, 10)}
	g := srv.NewGRPC()
	go func() { _ = g.Serve(cl) }()
	t.Cleanup(g.Stop)
	sc := mustLoad(t, `
def t(u):
    for i in range(3):
        u.grpc("/horde.target.v1.Target/Delay", {"ms": 1}, addr="`+ln.Addr().String()+`")
users = [user(name="U", tasks=[t])]
`)
	vu, rec := newVU(t, 1, "")
	ctx, cancel := contextWithCancel(t)
	if err := task(t, sc, "t")(ctx, vu); err != nil {
		t.Fatal(err)
	}
	if err := task(t, sc, "t")(ctx, vu); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.all()); n != 6 {
		t.Errorf("%d samples, want 6", n)
	}
	if n := cl.accepted.Load(); n != 1 {
		t.Errorf("%d connections for one user's 6 calls, want 1", n)
	}
	cancel()
	select {
	case <-cl.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the connection outlived its user")
	}
}

// countingListener counts the connections it accepts and signals each
// one's close.
type countingListener struct {
	net.Listener
	accepted atomic.Int32
	closed   chan struct{}
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.accepted.Add(1)
	return &signalConn{Conn: c, closed: l.closed}, nil
}

type signalConn struct {
	net.Conn
	once   sync.Once
	closed chan struct{}
}

func (c *signalConn) Close() error {
	c.once.Do(func() { c.closed <- struct{}{} })
	return c.Conn.Close()
}

// A literal method or request that the loaded .proto contradicts is a
// load error at its own line and column.
func TestGRPCLiteralCallsCheckedAtLoad(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		call, msg string
		line, col int
	}{
		{`u.grpc("/horde.target.v1.Target/Eco")`, "service horde.target.v1.Target has no method Eco", 4, 12},
		{`u.grpc("/horde.target.v1.Target/Echo", {"txt": "a"})`, `horde.target.v1.EchoMessage has no field "txt"`, 4, 45},
		{`u.grpc("/horde.target.v1.Target/Echo", {"number": "7"})`, "horde.target.v1.EchoMessage.number: want int, got a string", 4, 55},
		{`u.grpc("/horde.target.v1.Target/Echo", {"inner": {"value": 1.5}})`, "horde.target.v1.Inner.value: want int, got a float", 4, 64},
		{`u.grpc("/horde.target.v1.Target/Echo", {"kind": "KIND_HUGE"})`, `horde.target.v1.Kind has no value "KIND_HUGE"`, 4, 53},
		{`u.grpc("/horde.target.v1.Target/Echo", {"tags": "a"})`, "horde.target.v1.EchoMessage.tags: want a list, got a string", 4, 53},
	} {
		le := loadErr(t, `
grpc.proto("target.proto")
def t(u):
    `+c.call+`
users = [user(name="U", tasks=[t])]
`, "target.proto", targetProto(t))
		if !strings.Contains(le.Msg, c.msg) || le.File != "main.star" || le.Line != c.line || le.Col != c.col {
			t.Errorf("%s: %s:%d:%d: %s; want %d:%d and %q", c.call, le.File, le.Line, le.Col, le.Msg, c.line, c.col, c.msg)
		}
	}
	// What only running can judge is left to run time: a method in a
	// variable, a service the .proto files do not describe.
	mustLoad(t, `
grpc.proto("target.proto")
M = "/horde.target.v1.Target/Nope"
def t(u):
    u.grpc(M)
    u.grpc("/other.Svc/Call", {"x": 1})
users = [user(name="U", tasks=[t])]
`, "target.proto", targetProto(t))
}

// A gRPC server over TLS: grpcs:// (or an https:// host) speaks TLS,
// verified against the test's CAs (--ca-file), or not at all with
// verify=False; an untrusted certificate is a recorded failure.
func TestGRPCOverTLS(t *testing.T) {
	t.Parallel()
	hs := httptest.NewUnstartedServer(nil)
	hs.StartTLS() // only for its certificate, valid for 127.0.0.1
	hs.Close()
	cert := hs.TLS.Certificates[0]
	_, srv := targettest.Start(t, target.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := srv.NewGRPC(grpc.Creds(grpccreds.NewServerTLSFromCert(&cert)))
	go func() { _ = g.Serve(ln) }()
	t.Cleanup(g.Stop)
	src := `
def t(u):
    u.state["strict"] = u.grpc("/horde.target.v1.Target/Echo", addr=ADDR, timeout=5).status
    u.state["lax"] = u.grpc("/horde.target.v1.Target/Echo", {"text": "x"}, addr=ADDR, verify=False).message["text"]
ADDR = "grpcs://` + ln.Addr().String() + `"
users = [user(name="U", tasks=[t])]
`
	sc := mustLoad(t, src)
	vu, rec := newVU(t, 1, "")
	if err := task(t, sc, "t")(t.Context(), vu); err != nil {
		t.Fatal(err)
	}
	state := toGo(vu.Local.(*vuState).user.state).(map[string]any)
	if state["strict"] != "UNAVAILABLE" || state["lax"] != "x" {
		t.Errorf("state %v", state)
	}
	if _, failed := rows(rec.all()); failed["GRPC /horde.target.v1.Target/Echo: UNAVAILABLE: tls certificate"] != 1 {
		t.Errorf("failures %v", failed)
	}

	// Trusted through the test's CA file, as horde run --ca-file gives it.
	pemCA := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hs.Certificate().Raw})
	f, err := httpx.NewFactory(httpx.Options{CAPEM: pemCA})
	if err != nil {
		t.Fatal(err)
	}
	c := f.NewClient()
	rec2 := &fakeRec{}
	vu2 := &scenario.VU{ID: 2, HTTP: c, Rec: rec2}
	if err := task(t, mustLoad(t, src), "t")(t.Context(), vu2); err != nil {
		t.Fatal(err)
	}
	if s := toGo(vu2.Local.(*vuState).user.state).(map[string]any); s["strict"] != "OK" {
		t.Errorf("with the CA trusted: %v (%v)", s, rec2.all())
	}
}

// Streams are bounded: max_messages ends one early (OK, cancelled on the
// server), and messages adding up to more than 64 MiB fail it.
func TestGRPCStreamLimits(t *testing.T) {
	t.Parallel()
	_, srv := targettest.Start(t, target.Options{})
	addr := targettest.StartGRPC(t, srv)
	samples, state, err := grpcRun(t, `
S = "/horde.target.v1.Target/Stream"
def t(u):
    few = u.grpc_stream(S, {"count": 50}, addr=ADDR, max_messages=3)
    u.state["few"] = [few.status, len(few.messages)]
    big = u.grpc_stream(S, {"count": 100, "size": 1048576}, addr=ADDR, name="big")
    u.state["big"] = [big.status, len(big.messages) < 100]
ADDR = "`+addr+`"
`)
	if err != nil {
		t.Fatal(err)
	}
	if f := state["few"].([]any); f[0] != "OK" || f[1] != int64(3) {
		t.Errorf("max_messages=3: %v", f)
	}
	if b := state["big"].([]any); b[0] != "RESOURCE_EXHAUSTED" || b[1] != true {
		t.Errorf("a 100 MiB stream: %v", b)
	}
	if _, failed := rows(samples); failed["GRPC big: RESOURCE_EXHAUSTED"] != 1 || len(failed) != 1 {
		t.Errorf("failures %v", failed)
	}
}
