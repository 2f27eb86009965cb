package runstore

import (
	"context"
	"testing"
)

// BenchmarkSmallRun is the per-write cost: Begin, one Checkpoint and
// Finish of a run with small blobs (three transactions).
func BenchmarkSmallRun(b *testing.B) {
	snap := snapshot("bench", 1000)
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			s := open(b, be.location(b), Options{})
			b.ReportAllocs()
			for b.Loop() {
				r, err := s.Begin(ctx, Info{Script: "small.star", Labels: map[string]string{"k": "v"}})
				if err == nil {
					err = r.Checkpoint(ctx, snap)
				}
				if err == nil {
					err = r.Finish(ctx, StatusPassed, "", snap)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkList lists the newest 50 of 1,000 runs.
func BenchmarkList(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			s := open(b, be.location(b), Options{})
			for range 1000 {
				r, err := s.Begin(ctx, Info{Script: "list.star", Labels: map[string]string{"k": "v"}})
				if err == nil {
					err = r.Finish(ctx, StatusPassed, "", Snapshot{})
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if runs, err := s.List(ctx, Filter{Limit: 50}); err != nil || len(runs) != 50 {
					b.Fatal(len(runs), err)
				}
			}
		})
	}
}
