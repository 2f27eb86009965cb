package runstore

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// hourRun is what a 1-hour run of 100 endpoints stores: the per-second
// series a chart draws for every endpoint (rps, failures/s, p50, p95, p99,
// users; 3,600 points each) as columnar JSON, 100 final histograms in a
// dense varint form, and a summary JSON of 100 endpoints.
func hourRun() Snapshot {
	const endpoints, seconds = 100, 3600
	rng := rand.New(rand.NewPCG(1, 2))
	var hist bytes.Buffer
	hist.WriteString(`{"start":"2026-03-01T10:00:00Z","step_s":1,"endpoints":[`)
	var sum bytes.Buffer
	sum.WriteString(`{"version":1,"endpoints":[`)
	var hists []byte
	for e := range endpoints {
		if e > 0 {
			hist.WriteByte(',')
			sum.WriteByte(',')
		}
		fmt.Fprintf(&hist, `{"method":"GET","name":"/api/endpoint/%d"`, e)
		level := 20 + rng.Float64()*80
		base := 5 + rng.Float64()*50
		series := func(key string, f func(s int) float64, prec int) {
			fmt.Fprintf(&hist, `,%q:[`, key)
			for s := range seconds {
				if s > 0 {
					hist.WriteByte(',')
				}
				hist.WriteString(strconv.FormatFloat(f(s), 'f', prec, 64))
			}
			hist.WriteByte(']')
		}
		series("rps", func(int) float64 { return level + rng.NormFloat64()*math.Sqrt(level) }, 1)
		series("fail_s", func(int) float64 {
			if rng.IntN(20) == 0 {
				return float64(rng.IntN(5))
			}
			return 0
		}, 0)
		for _, q := range []struct {
			key string
			f   float64
		}{{"p50", 1}, {"p95", 2.5}, {"p99", 4}} {
			series(q.key, func(int) float64 { return base * q.f * math.Exp(rng.NormFloat64()*0.1) }, 2)
		}
		series("users", func(s int) float64 { return float64(min(s, 600)) / 6 }, 0)
		hist.WriteByte('}')
		fmt.Fprintf(&sum, `{"method":"GET","name":"/api/endpoint/%d","requests":%d,"failures":%d,"rps":%.3f,"bytes_avg":1234.5,"latency_ms":{"min":1.2,"avg":%.3f,"p50":%.3f,"p90":%.3f,"p95":%.3f,"p99":%.3f,"p999":%.3f,"max":%.3f}}`,
			e, int(level*seconds), rng.IntN(1000), level, base*1.2, base, base*2, base*2.5, base*4, base*6, base*10)
		hists = appendHistogram(hists, rng, level*seconds, base)
	}
	hist.WriteString(`]}`)
	sum.WriteString(`]}`)
	return Snapshot{
		Metrics:    Metrics{Requests: 180_000_000, Failures: 12345, RPS: 50_000, P95Ms: 87.5, DurationS: 3600},
		Summary:    sum.Bytes(),
		History:    hist.Bytes(),
		Histograms: hists,
	}
}

// appendHistogram appends a log-linear histogram (64 sub-buckets per power
// of two, as the stats package keeps) of n log-normal latencies around
// median ms: first bucket, bucket count, counts, all varints.
func appendHistogram(b []byte, rng *rand.Rand, n, median float64) []byte {
	counts := map[int]uint64{}
	lo, hi := math.MaxInt, 0
	for range 20000 { // sample the shape, then scale to n
		us := median * 1000 * math.Exp(rng.NormFloat64()*0.6)
		e := max(int(math.Log2(us))-6, 0)
		i := e*64 + int(us)>>e
		counts[i]++
		lo, hi = min(lo, i), max(hi, i)
	}
	b = binary.AppendUvarint(b, uint64(lo))
	b = binary.AppendUvarint(b, uint64(hi-lo+1))
	for i := lo; i <= hi; i++ {
		b = binary.AppendUvarint(b, uint64(float64(counts[i])*n/20000))
	}
	return b
}

// writeBytes returns the bytes this process has passed to write(2) so far
// (wchar of /proc/self/io), or -1 where that is not available.
func writeBytes() int64 {
	f, err := os.Open("/proc/self/io")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "wchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return -1
}

// storedBytes returns the size of the store: the database file and its
// WAL for SQLite, the database's size for PostgreSQL.
func storedBytes(ctx context.Context, s *Store) int64 {
	if s.loc.Kind == KindPostgres {
		var n int64
		_ = s.db.QueryRowContext(ctx, "SELECT pg_database_size(current_database())").Scan(&n)
		return n
	}
	var n int64
	for _, p := range []string{s.loc.Path, s.loc.Path + "-wal"} {
		if st, err := os.Stat(p); err == nil {
			n += st.Size()
		}
	}
	return n
}

// storeHour stores one hour run (Begin and Finish) and returns the bytes
// the store grew by, the bytes written through write(2) by this process
// and the bytes allocated on the Go heap.
func storeHour(ctx context.Context, tb testing.TB, s *Store, snap Snapshot) (stored, written, alloc int64) {
	var m0, m1 runtime.MemStats
	size0, w0 := storedBytes(ctx, s), writeBytes()
	runtime.ReadMemStats(&m0)
	r, err := s.Begin(ctx, Info{Script: "hour.star", Labels: map[string]string{"kind": "bench"}})
	if err == nil {
		err = r.Finish(ctx, StatusPassed, "", snap)
	}
	runtime.ReadMemStats(&m1)
	if err != nil {
		tb.Fatal(err)
	}
	return storedBytes(ctx, s) - size0, writeBytes() - w0, int64(m1.TotalAlloc - m0.TotalAlloc)
}

func BenchmarkStoreHourRun(b *testing.B) {
	snap := hourRun()
	b.Logf("history %.1f MB, histograms %.0f KB, summary %.0f KB (uncompressed)",
		float64(len(snap.History))/1e6, float64(len(snap.Histograms))/1e3, float64(len(snap.Summary))/1e3)
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			s := open(b, be.location(b), Options{})
			var stored, written, alloc int64
			b.ReportAllocs()
			for b.Loop() {
				st, w, a := storeHour(ctx, b, s, snap)
				stored, written, alloc = stored+st, written+w, alloc+a
			}
			n := float64(b.N)
			b.ReportMetric(float64(stored)/n/1e6, "MB-stored/op")
			if written >= 0 {
				b.ReportMetric(float64(written)/n/1e6, "MB-write(2)/op")
			}
			b.ReportMetric(float64(alloc)/n/1e6, "MB-heap/op")
		})
	}
}

// A 1-hour run of 100 endpoints takes less than 20 MB in the store and
// on the Go heap while it is stored. (Its time is measured by
// BenchmarkStoreHourRun, not asserted on a shared machine.)
func TestHourRunFitsBudget(t *testing.T) {
	snap := hourRun()
	for _, be := range backends { // one at a time: the figures are the process's
		t.Run(be.name, func(t *testing.T) { hourBudget(t, be.location(t), snap) })
	}
}

func hourBudget(t *testing.T, loc string, snap Snapshot) {
	{
		s := open(t, loc, Options{})
		ctx := testCtx(t)
		storeHour(ctx, t, s, snap) // warm up: schema pages, statements
		stored, written, alloc := storeHour(ctx, t, s, snap)
		t.Logf("stored %.1f MB, written through write(2) %.1f MB, heap %.1f MB", float64(stored)/1e6, float64(written)/1e6, float64(alloc)/1e6)
		if stored > 20e6 || alloc > 20e6 {
			t.Errorf("stored %d bytes and allocated %d: want both under 20 MB", stored, alloc)
		}
		if s.loc.Kind == KindSQLite && written > 20e6 {
			t.Errorf("wrote %d bytes to the SQLite files: want under 20 MB", written)
		}
	}
}
