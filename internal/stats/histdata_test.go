//lint:file-ignore SA4016 run headers are written gap<<3|kind, with kind 0 too, to show the encoding.

package stats

import (
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"testing"
)

// toSparse returns dense data in the sparse form.
func toSparse(d HistogramData) HistogramData {
	var sp []uint64
	var gap uint64
	for _, c := range d.Counts {
		if c == 0 {
			gap++
			continue
		}
		sp = append(sp, gap, c)
		gap = 0
	}
	return HistogramData{Min: d.Min, Max: d.Max, First: d.First, Sparse: sp}
}

// toRuns returns dense data in the runs form, smaller or not.
func toRuns(d HistogramData) HistogramData {
	return HistogramData{Min: d.Min, Max: d.Max, First: d.First, Runs: appendRuns(nil, d.Counts)}
}

// histForms are the forms a histogram travels in, by name.
var histForms = map[string]func(HistogramData) HistogramData{
	"dense":   func(d HistogramData) HistogramData { return d },
	"sparse":  toSparse,
	"runs":    toRuns,
	"compact": HistogramData.Compact,
}

// TestHistogramDataFormsAgree: whatever form a histogram travels in, the
// master merging it in place gets exactly the buckets, count, min and max
// of the histogram that was sent, into an empty histogram or a full one.
func TestHistogramDataFormsAgree(t *testing.T) {
	t.Parallel()
	sets := latencySets()
	sets["spread counts"] = []int64{5, 5, 5, 5, 5, 5, 5, 5, 5, 9, 200, 200, 7000, 7000, 7000, 7000, 7000, 7000, 7000, 7000, 1 << 40}
	for name, samples := range sets {
		var h, other Histogram
		for i, v := range samples {
			h.Record(v)
			other.Record(v/2 + int64(i%3))
		}
		for form, to := range histForms {
			v, err := to(h.Data()).Validate()
			if err != nil {
				t.Fatalf("%s as %s: %v", name, form, err)
			}
			if v.Count() != h.Count() || v.Min() != h.Min() || v.Max() != h.Max() {
				t.Errorf("%s as %s: count/min/max %d/%d/%d, want %d/%d/%d", name, form,
					v.Count(), v.Min(), v.Max(), h.Count(), h.Min(), h.Max())
			}
			var got Histogram
			got.MergeValid(&v)
			if !reflect.DeepEqual(got.Data(), h.Data()) || got.Count() != h.Count() {
				t.Errorf("%s as %s: merged into an empty histogram, buckets differ", name, form)
			}
			want := other.Clone()
			want.Merge(&h)
			into := other.Clone()
			into.MergeValid(&v)
			if !reflect.DeepEqual(into.Data(), want.Data()) || into.Count() != want.Count() {
				t.Errorf("%s as %s: merged into a full histogram, buckets differ from Merge", name, form)
			}
		}
	}
}

func TestCompactPicksTheSmallerForm(t *testing.T) {
	t.Parallel()
	var sparse, dense Histogram
	for i := range 100 {
		sparse.Record(int64(1000 + 1999*i)) // 1–200 ms, a bucket each
		for range 50 {
			dense.Record(int64(5000 + i)) // 100 neighbouring buckets of 50
		}
	}
	c := sparse.Data().Compact()
	if len(c.Runs) == 0 || len(c.Counts) != 0 {
		t.Fatalf("sparse histogram: compact form %d runs bytes, %d counts; want runs", len(c.Runs), len(c.Counts))
	}
	if len(c.Runs) > 2*100 {
		t.Errorf("100 samples take %d bytes, want at most 2 each", len(c.Runs))
	}
	if c := dense.Data().Compact(); len(c.Runs) != 0 || !reflect.DeepEqual(c, dense.Data()) {
		t.Errorf("dense histogram: compact form %+v, want the dense form", c)
	}
	if c := (HistogramData{}).Compact(); !reflect.DeepEqual(c, HistogramData{}) {
		t.Errorf("empty histogram: compact form %+v", c)
	}
}

func uvarints(vs ...uint64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.AppendUvarint(b, v)
	}
	return b
}

// TestValidateRejects covers the sparse and runs forms; the dense form is
// TestHistogramFromDataRejects.
func TestValidateRejects(t *testing.T) {
	t.Parallel()
	// Three samples at 5, 7 and 7 µs: buckets 5 and 7.
	runs := func(b []byte) HistogramData { return HistogramData{Min: 5, Max: 7, First: 5, Runs: b} }
	sparse := func(sp ...uint64) HistogramData { return HistogramData{Min: 5, Max: 7, First: 5, Sparse: sp} }
	if _, err := runs(uvarints(0<<3|1, 1<<3|2)).Validate(); err != nil {
		t.Fatalf("the valid runs are refused: %v", err)
	}
	if _, err := sparse(0, 1, 1, 2).Validate(); err != nil {
		t.Fatalf("the valid sparse pairs are refused: %v", err)
	}
	tests := []struct {
		name string
		d    HistogramData
	}{
		{"runs and dense", HistogramData{Min: 5, Max: 5, First: 5, Counts: []uint64{1}, Runs: uvarints(1)}},
		{"runs and sparse", HistogramData{Min: 5, Max: 5, First: 5, Sparse: []uint64{0, 1}, Runs: uvarints(1)}},
		{"runs truncated varint", runs([]byte{0x01, 0x8a})},
		{"runs truncated long count", runs(uvarints(0<<3|1, 1<<3|0))},
		{"runs varint over 64 bits", runs(append([]byte{0x01}, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01))},
		{"runs gap beyond the last bucket", runs(uvarints(0<<3|1, uint64(NumBuckets)<<3|2))},
		{"runs gap wraps around", runs(uvarints(0<<3|1, math.MaxUint64&^7|2))},
		{"runs count overflows", runs(uvarints(0<<3|0, math.MaxUint64, 1<<3|2))},
		{"runs negative first", HistogramData{Min: 5, Max: 5, First: -1, Runs: uvarints(6<<3 | 1)}},
		{"runs first beyond the range", HistogramData{First: NumBuckets, Runs: uvarints(0)}},
		{"runs min outside its bucket", HistogramData{Min: 4, Max: 7, First: 5, Runs: uvarints(0<<3|1, 1<<3|2)}},
		{"runs only empty buckets, min set", runs(uvarints(0<<3|0, 0))},
		{"sparse and dense", HistogramData{Min: 5, Max: 5, First: 5, Counts: []uint64{1}, Sparse: []uint64{0, 1}}},
		{"sparse of odd length", sparse(0, 1, 1)},
		{"sparse gap beyond the last bucket", sparse(0, 1, NumBuckets, 2)},
		{"sparse gap wraps around", sparse(0, 1, math.MaxUint64, 2)},
		{"sparse count overflows", sparse(0, math.MaxUint64, 1, 2)},
		{"sparse max outside its bucket", HistogramData{Min: 5, Max: 9, First: 5, Sparse: []uint64{0, 1, 1, 2}}},
	}
	for _, tt := range tests {
		if v, err := tt.d.Validate(); !errors.Is(err, ErrBadHistogram) || v.Count() != 0 {
			t.Errorf("%s: count %d, err %v; want ErrBadHistogram", tt.name, v.Count(), err)
		}
	}
}

// FuzzHistogramRuns: no runs form, however broken, makes Validate or a
// merge panic, and what Validate accepts merges into a histogram that
// holds exactly its count, between its min and max, and survives another
// trip through the compact form unchanged.
func FuzzHistogramRuns(f *testing.F) {
	var h Histogram
	for _, v := range []int64{1000, 1000, 3000, 3001, 90000, 1 << 33} {
		h.Record(v)
	}
	d := toRuns(h.Data())
	f.Add(d.First, d.Min, d.Max, d.Runs)
	f.Add(5, int64(5), int64(7), uvarints(0<<3|1, 1<<3|2))
	f.Add(0, int64(0), int64(0), []byte{0x80})
	f.Add(0, int64(0), int64(1), uvarints(0<<3|0, 9, 0<<3|0, 0))
	f.Add(0, int64(1), int64(1), append(uvarints(0<<3|0, math.MaxUint64-3), 0<<3|7))
	f.Add(NumBuckets-3, int64(0), int64(0), []byte{0x09, 0x09, 0x09, 0x09})
	f.Fuzz(func(t *testing.T, first int, lo, hi int64, runs []byte) {
		checkScanRuns(t, HistogramData{Min: lo, Max: hi, First: first, Runs: runs})
		v, err := HistogramData{Min: lo, Max: hi, First: first, Runs: runs}.Validate()
		if err != nil {
			return
		}
		var got Histogram
		got.MergeValid(&v)
		if got.Count() != v.Count() || (v.Count() > 0 && (got.Min() != lo || got.Max() != hi)) {
			t.Fatalf("merged count/min/max %d/%d/%d, data says %d/%d/%d", got.Count(), got.Min(), got.Max(), v.Count(), lo, hi)
		}
		for _, q := range testQuantiles {
			if x := got.Quantile(q); got.Count() > 0 && (x < float64(lo) || x > float64(hi)) {
				t.Fatalf("q%v = %v outside [%d, %d]", q, x, lo, hi)
			}
		}
		again, err := got.Data().Compact().Validate()
		if err != nil {
			t.Fatalf("the compact form of an accepted histogram is refused: %v", err)
		}
		var back Histogram
		back.MergeValid(&again)
		if !reflect.DeepEqual(back.Data(), got.Data()) {
			t.Fatal("a second trip through the compact form changed the buckets")
		}
		full := h.Clone()
		full.MergeValid(&v)
		if full.Count() != h.Count()+v.Count() {
			t.Fatalf("merged into a full histogram: %d samples, want %d", full.Count(), h.Count()+v.Count())
		}
	})
}

// scanRunsOneByOne is scanRuns as its definition says it: every run
// checked as it comes.
func scanRunsOneByOne(d HistogramData) (total uint64, lo, hi int, ok bool) {
	if len(d.Counts) != 0 || len(d.Sparse) != 0 || d.First < 0 || d.First >= NumBuckets {
		return 0, 0, 0, false
	}
	room := uint64(NumBuckets - d.First)
	var n uint64
	lo, hi = -1, -1
	for i := 0; i < len(d.Runs); {
		gap, c, next := runAt(d.Runs, i)
		if next < 0 || gap >= room-n {
			return 0, 0, 0, false
		}
		n += gap + 1
		if total += c; total < c {
			return 0, 0, 0, false
		}
		if c != 0 {
			if lo < 0 {
				lo = d.First + int(n) - 1
			}
			hi = d.First + int(n) - 1
		}
		i = next
	}
	return total, lo, hi, true
}

// checkScanRuns fails the test when scanRuns and scanRunsOneByOne
// disagree on d.
func checkScanRuns(t *testing.T, d HistogramData) {
	t.Helper()
	v := ValidHistogram{d: d}
	err := v.scanRuns()
	total, lo, hi, ok := scanRunsOneByOne(d)
	if (err == nil) != ok {
		t.Fatalf("scanRuns: %v; run by run: ok %v", err, ok)
	}
	if ok && (v.total != total || (total > 0 && (v.lo != lo || v.hi != hi))) {
		t.Fatalf("scanRuns: %d samples in %d..%d; run by run: %d in %d..%d", v.total, v.lo, v.hi, total, lo, hi)
	}
}

// scanRuns agrees with checking every run on the edges: a count that
// overflows after long runs, runs past the last bucket in one-byte runs,
// a malformed varint after them.
func TestScanRunsAgreesRunByRun(t *testing.T) {
	t.Parallel()
	var h Histogram
	for v := int64(1); v < 5_000_000; v = v*11/10 + 1 {
		h.Record(v)
		h.Record(v)
	}
	honest := toRuns(h.Data())
	for name, d := range map[string]HistogramData{
		"honest":                       honest,
		"overflow after one-byte runs": {Runs: append(uvarints(0<<3|0, math.MaxUint64-3), 0x0f, 0x0f)},
		"one-byte runs to the edge":    {First: NumBuckets - 4, Runs: []byte{0x09, 0x09}},
		"one-byte runs past the edge":  {First: NumBuckets - 4, Runs: []byte{0x09, 0x09, 0x09}},
		"past the edge, then long":     {First: NumBuckets - 2, Runs: append([]byte{0x09, 0x09, 0x09}, uvarints(0<<3|0, 9)...)},
		"malformed after short runs":   {Runs: []byte{0x09, 0x09, 0x80}},
		"two-byte runs to the edge":    {First: NumBuckets - 2*201, Runs: uvarints(200<<3|1, 200<<3|2)},
		"two-byte runs past the edge":  {First: NumBuckets - 2*201 + 1, Runs: uvarints(200<<3|1, 200<<3|2)},
		"a two-byte run not minimal":   {Runs: []byte{0x81, 0x00, 0x09}},
		"a two-byte run, then short":   {Runs: []byte{0x81}},
		"zero count, long form":        {Runs: uvarints(3<<3|0, 0, 1<<3|1)},
	} {
		t.Run(name, func(t *testing.T) { checkScanRuns(t, d) })
	}
}
