package script

import (
	"testing"
)

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
	vu, rec := newVU(b, 1, srv.URL)
	fn := sc.Users[0].Tasks[0].Fn
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if err := fn(ctx, vu); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if n := len(rec.all()); n < b.N {
		b.Fatalf("recorded %d of %d", n, b.N)
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
