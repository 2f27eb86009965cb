package script

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/scenario"
)

// FuzzLoad feeds arbitrary script source to LoadFiles: it must never
// panic, and must return either a scenario with users or a *LoadError.
func FuzzLoad(f *testing.F) {
	f.Add("def a(u):\n    u.get('/')\nusers = [user(name='W', tasks={a: 2}, wait=between(1, 2))]\n")
	f.Add("load('lib.star', 'x')\nusers = user(name=x, tasks=sequence([lambda u: None]))\n")
	f.Add("rows = csv('u.csv')\noptions = {'users': 3, 'run_time': 5}\n")
	f.Add("def f(:\n")
	f.Add("users = [user(name='A', tasks=[task(print, tags=['x'])], host=env('H'))]\n")
	f.Add("x = [i for i in range(10)]\nusers = x\n")
	f.Add("load('main.star', 'y')\n")
	f.Add("while True:\n    pass\n")
	f.Add("def a(u): pass\nusers = user('U', [a])\nstages = [stage('30s', users=100), stage(60, users=100), stage('10s', users=0)]\n")
	f.Add("def a(u): pass\nusers = user('U', [a])\nstages = [stage('1m', rate=50, users=200), stage('1m30s', rate=0)]\n")
	f.Add("def a(u): pass\nusers = user('U', [a])\ndef shape(t):\n    if t > 60:\n        return None\n    return {'rate': t * 2, 'ramp': '5s', 'users': 10}\n")
	f.Add("def a(u): pass\nusers = user('U', [a])\ndef shape(t):\n    return (int(t) % 7, 1.5)\n")
	f.Add("def a(u): pass\nusers = user('U', [a])\nshape = lambda t: 'x'\nthresholds = ['p95<300ms', threshold('fail_ratio<0.01', abort_on_fail=True)]\n")
	f.Fuzz(func(t *testing.T, src string) {
		files := map[string][]byte{
			"main.star": []byte(src),
			"lib.star":  []byte("x = 'lib'\n"),
			"u.csv":     []byte("a,b\n1,2\n"),
		}
		sc, err := LoadFiles(files, "main.star", Options{MaxLoadSteps: 100_000, MaxShapeSteps: 100_000})
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error is %T, not *LoadError: %v", err, err)
			}
			if le.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if sc == nil || len(sc.Users) == 0 {
			t.Fatalf("no error and no users: %+v", sc)
		}
		for _, uc := range sc.Users {
			if uc.Name == "" || len(uc.Tasks) == 0 {
				t.Fatalf("invalid user class %+v", uc)
			}
		}
		for _, th := range sc.Thresholds {
			if strings.TrimSpace(th.Expr) == "" {
				t.Fatalf("empty threshold in %+v", sc.Thresholds)
			}
		}
		if sc.Shape != nil {
			checkShape(t, sc.Shape)
		}
	})
}

// checkShape asks a loaded shape at a few moments: it must answer a
// valid target, the end, or an error, and describe itself.
func checkShape(t *testing.T, sh scenario.Shape) {
	t.Helper()
	for _, at := range []time.Duration{0, 1500 * time.Millisecond, time.Hour} {
		lt, ok, err := sh.At(at, 0)
		if sh.Describe(at) == "" {
			t.Fatalf("empty Describe at %v", at)
		}
		if err != nil || !ok {
			continue
		}
		if lt.Users < 0 || !(lt.SpawnRate >= 0) || !(lt.Rate >= 0) || lt.Ramp < 0 ||
			math.IsInf(lt.SpawnRate, 0) || math.IsInf(lt.Rate, 0) {
			t.Fatalf("invalid target at %v: %+v", at, lt)
		}
	}
}
