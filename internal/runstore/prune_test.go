package runstore

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestDelete(t *testing.T) {
	eachBackend(t, func(t *testing.T, loc string) {
		s := open(t, loc, Options{})
		id := fixture(t, s)
		if err := s.Delete(testCtx(t), id[2]); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(testCtx(t), id[2]); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get after Delete: %v, want ErrNotFound", err)
		}
		runs, _ := s.List(testCtx(t), Filter{Labels: map[string]string{"branch": "x"}})
		if len(runs) != 0 {
			t.Errorf("the deleted run's label still selects %v", ids(runs))
		}
		if n, _ := s.Count(testCtx(t), Filter{}); n != 4 {
			t.Errorf("%d runs left, want 4", n)
		}
		if err := s.Delete(testCtx(t), id[2]); !errors.Is(err, ErrNotFound) {
			t.Errorf("second Delete: %v, want ErrNotFound", err)
		}
		if err := s.Delete(testCtx(t), id[4]); !errors.Is(err, ErrRunning) {
			t.Errorf("Delete of a running run: %v, want ErrRunning", err)
		}
	})
}

func TestPrune(t *testing.T) {
	eachBackend(t, func(t *testing.T, loc string) {
		clk := newClock("2026-03-01T15:00:00Z") // an hour after the last run began
		s := open(t, loc, Options{Now: clk.now})
		id := fixture(t, s)

		got, err := s.Prune(testCtx(t), Retention{OlderThan: 4*time.Hour + time.Minute})
		if err != nil || !reflect.DeepEqual(got, []string{id[0]}) {
			t.Errorf("prune older than 4h01m: %v %v, want the 10:00 run", got, err)
		}
		got, err = s.Prune(testCtx(t), Retention{Keep: 2})
		if err != nil || !reflect.DeepEqual(got, []string{id[2], id[1]}) {
			t.Errorf("keep 2: deleted %v %v, want the 12:00 and 11:00 runs", got, err)
		}
		left, _ := s.List(testCtx(t), Filter{})
		if !reflect.DeepEqual(ids(left), []string{id[4], id[3]}) {
			t.Errorf("left %v", ids(left))
		}
		got, err = s.Prune(testCtx(t), Retention{Keep: 1, OlderThan: time.Minute})
		if err != nil || !reflect.DeepEqual(got, []string{id[3]}) {
			t.Errorf("keep 1: deleted %v %v; the running run must stay", got, err)
		}
		if _, err := s.Prune(testCtx(t), Retention{}); err == nil {
			t.Errorf("Prune with no retention: want an error, not a deleted store")
		}
	})
}
