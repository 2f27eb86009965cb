package runstore

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fixture is five runs of two scripts at known times:
//
//	i  script   started  status   rps  labels
//	0  a.star   10:00    passed   10   env=staging
//	1  b.star   11:00    failed   50   env=prod
//	2  a.star   12:00    passed   30   env=prod, branch=x
//	3  a.star   13:00    aborted  20
//	4  b.star   14:00    running  40   env=prod
func fixture(t *testing.T, s *Store) []string {
	t.Helper()
	base, _ := time.Parse(time.RFC3339, "2026-03-01T10:00:00Z")
	runs := []struct {
		script string
		status Status
		rps    float64
		labels map[string]string
	}{
		{"a.star", StatusPassed, 10, map[string]string{"env": "staging"}},
		{"b.star", StatusFailed, 50, map[string]string{"env": "prod"}},
		{"a.star", StatusPassed, 30, map[string]string{"env": "prod", "branch": "x"}},
		{"a.star", StatusAborted, 20, nil},
		{"b.star", StatusRunning, 40, map[string]string{"env": "prod"}},
	}
	var out []string
	for i, r := range runs {
		rec := begin(t, s, Info{Script: r.script, Labels: r.labels, Started: base.Add(time.Duration(i) * time.Hour)})
		snap := Snapshot{Metrics: Metrics{RPS: r.rps, Requests: int64(r.rps) * 60}}
		if r.status == StatusRunning {
			if err := rec.Checkpoint(testCtx(t), snap); err != nil {
				t.Fatal(err)
			}
		} else {
			finish(t, rec, r.status, snap)
		}
		out = append(out, rec.ID())
	}
	return out
}

func TestListFilterAndSort(t *testing.T) {
	eachBackend(t, func(t *testing.T, loc string) {
		s := open(t, loc, Options{})
		id := fixture(t, s)
		at := func(h int) time.Time { return time.Date(2026, 3, 1, h, 0, 0, 0, time.UTC) }
		pick := func(is ...int) []string {
			var out []string
			for _, i := range is {
				out = append(out, id[i])
			}
			return out
		}
		for _, tc := range []struct {
			name string
			f    Filter
			want []string
		}{
			{"all, newest first", Filter{}, pick(4, 3, 2, 1, 0)},
			{"oldest first", Filter{Ascending: true}, pick(0, 1, 2, 3, 4)},
			{"script", Filter{Script: "a.star"}, pick(3, 2, 0)},
			{"label", Filter{Labels: map[string]string{"env": "prod"}}, pick(4, 2, 1)},
			{"two labels", Filter{Labels: map[string]string{"env": "prod", "branch": "x"}}, pick(2)},
			{"label value differs", Filter{Labels: map[string]string{"env": "dev"}}, nil},
			{"status", Filter{Status: []Status{StatusPassed, StatusFailed}}, pick(2, 1, 0)},
			{"time range", Filter{Since: at(11), Until: at(13)}, pick(2, 1)},
			{"by rps", Filter{Sort: SortRPS}, pick(1, 4, 2, 3, 0)},
			{"by rps ascending", Filter{Sort: SortRPS, Ascending: true}, pick(0, 3, 2, 4, 1)},
			{"limit", Filter{Limit: 2}, pick(4, 3)},
			{"limit and offset", Filter{Limit: 2, Offset: 2}, pick(2, 1)},
			{"offset only", Filter{Offset: 3}, pick(1, 0)},
			{"script and status", Filter{Script: "a.star", Status: []Status{StatusPassed}, Sort: SortRequests}, pick(2, 0)},
		} {
			runs, err := s.List(testCtx(t), tc.f)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if got := ids(runs); !reflect.DeepEqual(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
			}
			tc.f.Limit, tc.f.Offset = 0, 0
			n, err := s.Count(testCtx(t), tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if tc.name != "limit" && tc.name != "limit and offset" && tc.name != "offset only" && n != len(tc.want) {
				t.Errorf("%s: Count %d, want %d", tc.name, n, len(tc.want))
			}
		}
		runs, _ := s.List(testCtx(t), Filter{Script: "a.star", Status: []Status{StatusPassed}, Limit: 1})
		if len(runs) != 1 || runs[0].Labels["branch"] != "x" || runs[0].Metrics.RPS != 30 {
			t.Errorf("listed run: %+v, want its labels and metrics", runs)
		}
		if _, err := s.List(testCtx(t), Filter{Status: []Status{"done"}}); err == nil {
			t.Errorf("unknown status: want an error")
		}
		if _, err := s.List(testCtx(t), Filter{Sort: "id; DROP TABLE runs"}); err == nil {
			t.Errorf("unknown sort key: want an error")
		}
	})
}

func TestResolve(t *testing.T) {
	eachBackend(t, func(t *testing.T, loc string) {
		s := open(t, loc, Options{})
		id := fixture(t, s)
		for _, tc := range []struct {
			ref, script, want string
		}{
			{"latest", "", id[4]},
			{"latest-passed", "", id[2]},
			{"LATEST-PASSED", "a.star", id[2]},
			{"latest", "a.star", id[3]},
			{id[1], "", id[1]},
			{strings.ToUpper(id[0][:6]), "", id[0]},
		} {
			r, err := s.Resolve(testCtx(t), tc.ref, tc.script)
			if err != nil || r.ID != tc.want {
				t.Errorf("Resolve(%q, %q) = %s, %v; want %s", tc.ref, tc.script, r.ID, err, tc.want)
			}
		}

		_, err := s.Resolve(testCtx(t), "latest-passed", "b.star")
		var re *RefError
		if !errors.As(err, &re) || !errors.Is(err, ErrNotFound) {
			t.Fatalf("latest-passed of a script with no passed run: %v, want a *RefError", err)
		}
		if !reflect.DeepEqual(ids(re.Candidates), []string{id[4], id[1]}) || !strings.Contains(err.Error(), id[1]) {
			t.Errorf("candidates %v / message %q: want b.star's runs, newest first", ids(re.Candidates), err)
		}
		if _, err := s.Resolve(testCtx(t), "ffffffffffffffff", ""); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown id: %v", err)
		}
		if _, err := s.Resolve(testCtx(t), "abc", ""); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("a 3-digit prefix: %v, want a syntax error", err)
		}

		// Two runs whose ids share a prefix.
		base := get(t, s, id[0]).Run
		for _, suffix := range []string{"000000000001", "000000000002"} {
			w := row{Run: base, Seq: 1}
			w.Run.ID = "beef" + suffix
			if err := s.put(testCtx(t), w); err != nil {
				t.Fatal(err)
			}
		}
		_, err = s.Resolve(testCtx(t), "beef", "")
		if !errors.As(err, &re) || !errors.Is(err, ErrAmbiguous) || len(re.Candidates) != 2 {
			t.Errorf("ambiguous prefix: %v, want a *RefError with both runs", err)
		}
		if r, err := s.Resolve(testCtx(t), "beef000000000002", ""); err != nil || r.ID != "beef000000000002" {
			t.Errorf("full id of one of them: %v %v", r.ID, err)
		}
	})
}

// Resolving in an empty store says so.
func TestResolveEmptyStore(t *testing.T) {
	eachBackend(t, func(t *testing.T, loc string) {
		s := open(t, loc, Options{})
		_, err := s.Resolve(testCtx(t), "latest", "")
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "holds none") {
			t.Errorf("latest in an empty store: %v", err)
		}
	})
}
