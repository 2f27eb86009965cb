package script

import (
	"testing"

	"github.com/horde-load/horde/internal/scenario"
)

// BenchmarkTaskCallEmpty is the fixed cost of one task call through
// Starlark, for a task that does nothing: the VU state lookup, arming the
// cancel on the call's context, the Starlark call frame and the flush.
func BenchmarkTaskCallEmpty(b *testing.B) {
	sc := mustLoad(b, `
def t(u):
    pass
users = user(name="U", tasks=[t])
`)
	rec := &fakeRec{}
	vu := newBareVU(1, rec)
	fn := sc.Users[0].Tasks[0].Fn
	ctx := b.Context() // cancellable, as the runner's is
	b.ReportAllocs()
	for b.Loop() {
		if err := fn(ctx, vu); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if n := len(rec.all()); n != 0 {
		b.Fatalf("an empty task recorded %d samples", n)
	}
}

// BenchmarkTaskCall measures one task call that makes one GET against a
// local server and checks the response: the per-task overhead of the
// script layer on top of the HTTP round trip.
func BenchmarkTaskCall(b *testing.B) {
	srv := newServer(b)
	sc := mustLoad(b, `
def t(u):
    r = u.get("/text", name="text")
    if r.status != 200:
        r.fail("status")
users = user(name="U", tasks=[t])
`)
	rec := benchTask(b, sc, srv.URL)
	if n := len(rec.all()); n < b.N {
		b.Fatalf("recorded %d of %d", n, b.N)
	}
}

// BenchmarkTaskCallRequest is a task that builds a full request through the
// user's request API — query parameters, headers, a JSON body and a name —
// and checks the response, against a local server whose handler does
// almost nothing: the cost of argument conversion, JSON encoding and the
// HTTP round trip as a script pays them.
func BenchmarkTaskCallRequest(b *testing.B) {
	srv := newServer(b)
	sc := mustLoad(b, `
def t(u):
    r = u.post("/text", params={"page": 2, "q": "shoes"},
               headers={"X-Request-Id": "bench", "Accept": "text/plain"},
               json={"user": u.id, "items": [1, 2, 3], "note": "bench"},
               name="/text [post]")
    if not r.ok or r.text != "hello":
        r.fail("unexpected response")
users = user(name="U", tasks=[t])
`)
	rec := benchTask(b, sc, srv.URL)
	all := rec.all()
	if len(all) < b.N {
		b.Fatalf("recorded %d of %d", len(all), b.N)
	}
	if s := all[len(all)-1]; s.Err != "" || s.Key.Name != "/text [post]" || s.Key.Method != "POST" {
		b.Fatalf("last sample: %+v", s)
	}
}

// BenchmarkTaskCallNoHTTP is the script layer alone: a task that does a
// little Starlark work and records a custom timing.
func BenchmarkTaskCallNoHTTP(b *testing.B) {
	sc := mustLoad(b, `
def t(u):
    u.state["n"] = u.state.get("n", 0) + 1
    record("x", 1)
users = user(name="U", tasks=[t])
`)
	vu := newBareVU(1, &fakeRec{})
	fn := sc.Users[0].Tasks[0].Fn
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if err := fn(ctx, vu); err != nil {
			b.Fatal(err)
		}
	}
}

// benchTask calls the first task of sc's first class b.N times on one user
// with base URL host, and returns what the user recorded.
func benchTask(b *testing.B, sc *scenario.Scenario, host string) *fakeRec {
	b.Helper()
	vu, rec := newVU(b, 1, host)
	fn := sc.Users[0].Tasks[0].Fn
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if err := fn(ctx, vu); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	return rec
}
