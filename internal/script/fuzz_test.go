package script

import (
	"errors"
	"testing"
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
	f.Fuzz(func(t *testing.T, src string) {
		files := map[string][]byte{
			"main.star": []byte(src),
			"lib.star":  []byte("x = 'lib'\n"),
			"u.csv":     []byte("a,b\n1,2\n"),
		}
		sc, err := LoadFiles(files, "main.star", Options{MaxLoadSteps: 100_000})
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
	})
}
