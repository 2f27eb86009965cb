package script

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/horde-load/horde/internal/scenario"
	"github.com/horde-load/horde/internal/target"
	"github.com/horde-load/horde/internal/target/targettest"
)

const examplesDir = "../../examples"

func TestExamplesLoad(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob(filepath.Join(examplesDir, "*.star"))
	if err != nil || len(paths) < 3 {
		t.Fatalf("examples: %v %v", paths, err)
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			t.Parallel()
			sc, err := Load(p, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(sc.Users) == 0 {
				t.Fatal("no users")
			}
			// The bundle is self-contained: a worker loads it without the disk.
			if _, err := LoadFiles(sc.Files, filepath.Base(p), Options{}); err != nil {
				t.Errorf("LoadFiles(bundle): %v", err)
			}
		})
	}
}

func TestSeedExampleIsTheTutorial(t *testing.T) {
	t.Parallel()
	sc, err := Load(filepath.Join(examplesDir, "seed.star"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	uc := sc.Users[0]
	got := fmt.Sprintf("%s on_start=%v wait=%v", uc.Name, uc.OnStart != nil, uc.Wait)
	for _, tk := range uc.Tasks {
		got += fmt.Sprintf(" %s:%d", tk.Name, tk.Weight)
	}
	want := "WebsiteUser on_start=true wait={5s 9s} index:2 profile:1"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, ok := sc.Files["users.csv"]; ok {
		t.Error("seed.star does not read users.csv")
	}
	csvSc, err := Load(filepath.Join(examplesDir, "csv_users.star"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := csvSc.Files["users.csv"]; !ok {
		t.Error("csv_users.star bundle lacks users.csv")
	}
}

// TestExamplesAgainstTarget runs every example's users against the sample
// app: each user starts, runs each task a few times and stops. Every
// recorded request must have succeeded, and the app must have served
// exactly what was recorded.
func TestExamplesAgainstTarget(t *testing.T) {
	t.Parallel()
	paths, _ := filepath.Glob(filepath.Join(examplesDir, "*.star"))
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			t.Parallel()
			base, app := targettest.Start(t, target.Options{})
			sc, err := Load(p, Options{Stdout: io.Discard})
			if err != nil {
				t.Fatal(err)
			}
			recorded := map[string]int64{}
			for _, uc := range sc.Users {
				for id := range 3 {
					vu, rec := newVU(t, id, base)
					vu.Class = uc
					runUser(t, uc, vu)
					for _, s := range rec.all() {
						if s.Err != "" {
							t.Errorf("user %d: %s %s failed: %s", id, s.Method, s.Name, s.Err)
						}
						recorded[s.Method+" "+strings.SplitN(s.Name, "?", 2)[0]]++
					}
				}
			}
			served := app.Counts()
			if fmt.Sprint(served) != fmt.Sprint(recorded) {
				t.Errorf("served %v, recorded %v", served, recorded)
			}
			if served["POST /login"] != 3*int64(len(sc.Users)) {
				t.Errorf("logins: got %d, want one per user", served["POST /login"])
			}
		})
	}
}

// runUser plays a user's life without waits: on_start, every task twice,
// on_stop.
func runUser(t *testing.T, uc *scenario.UserClass, vu *scenario.VU) {
	t.Helper()
	ctx := t.Context()
	call := func(what string, fn scenario.Func) {
		if fn == nil {
			return
		}
		if err := fn(ctx, vu); err != nil {
			t.Fatalf("%s: %v\n%s", what, err, traceOf(err))
		}
	}
	call("on_start", uc.OnStart)
	for range 2 {
		for _, tk := range uc.Tasks {
			call(tk.Name, tk.Fn)
		}
	}
	call("on_stop", uc.OnStop)
}
