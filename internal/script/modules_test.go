package script

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/horde-load/horde/internal/buftest"
)

func TestLoadSibling(t *testing.T) {
	t.Parallel()
	sc := mustLoad(t, `
load("lib.star", "login", greeting="hello")
load("sub/deep.star", "deep")
def index(u): pass
users = user(name=greeting + deep, tasks=[index], on_start=login)
`,
		"lib.star", "def login(u): pass\nhello = 'Hi'\n",
		"sub/deep.star", "load('helper.star', 'x')\ndeep = x\n",
		"sub/helper.star", "x = '!'\n",
		"unused.star", "x = 1\n")
	if got := sc.Users[0].Name; got != "Hi!" {
		t.Errorf("name: got %q", got)
	}
	if sc.Users[0].OnStart == nil {
		t.Error("on_start from lib.star missing")
	}
	var keys []string
	for k := range sc.Files {
		keys = append(keys, k)
	}
	want := []string{"lib.star", "main.star", "sub/deep.star", "sub/helper.star"}
	if !sameSet(keys, want) {
		t.Errorf("Files: got %v, want %v (no unused files)", keys, want)
	}
}

func sameSet(a, b []string) bool {
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return len(a) == len(b)
}

func TestModuleLoadedOnce(t *testing.T) {
	t.Parallel()
	out := &buftest.Buffer{}
	_, err := loadOpts(t, Options{Stdout: out}, `
load("a.star", "x")
load("b.star", "y")
def t(u): pass
users = user(name="U", tasks=[t])
`, "a.star", "load('c.star', 'z')\nx = z\n", "b.star", "load('c.star', 'z')\ny = z\n", "c.star", "print('c runs')\nz = 1\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "c runs\n" {
		t.Errorf("print output: got %q, want one run of c.star", got)
	}
}

func TestLoadModuleErrors(t *testing.T) {
	t.Parallel()
	const tail = "def t(u): pass\nusers = user(name='U', tasks=[t])\n"
	tests := []struct {
		name  string
		src   string
		extra []string
		want  string
	}{
		{"missing", "load('nope.star', 'x')\n" + tail, nil, "main.star:1:1: cannot load nope.star: no such file in the bundle"},
		{"missing symbol", "load('lib.star', 'nope')\n" + tail, []string{"lib.star", "x = 1\n"}, "main.star:1:1: load: name nope not found in module lib.star"},
		{"cycle", "load('a.star', 'x')\n" + tail, []string{"a.star", "load('b.star', 'y')\nx = y\n", "b.star", "load('a.star', 'x')\ny = x\n"},
			"b.star:1:1: cannot load a.star: load cycle: main.star -> a.star -> b.star -> a.star"},
		{"self cycle", "load('main.star', 'x')\n" + tail, nil, "main.star:1:1: cannot load main.star: load cycle: main.star -> main.star"},
		{"syntax error in module", "load('lib.star', 'x')\n" + tail, []string{"lib.star", "x = (\n"}, "lib.star:2:1: got end of file, want primary expression"},
		{"runtime error in module", "load('lib.star', 'x')\n" + tail, []string{"lib.star", "\nx = {}['k']\n"}, `lib.star:2:7: key "k" not in dict`},
		{"absolute path", "load('/etc/x.star', 'x')\n" + tail, nil, `main.star:1:1: cannot load /etc/x.star: "/etc/x.star": use a path relative to the script`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			le := loadErr(t, tc.src, tc.extra...)
			contains(t, le.Error(), tc.want)
		})
	}
}

func TestLoadFromDisk(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, src string) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("s/main.star", "load('lib/l.star', 'f')\nrows = csv('data/u.csv')\nusers = user(name=rows[0]['n'], tasks=[f])\n")
	write("s/lib/l.star", "def f(u): pass\n")
	write("s/data/u.csv", "n\nAlice\n")
	sc, err := Load(filepath.Join(dir, "s", "main.star"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sc.Users[0].Name != "Alice" {
		t.Errorf("name: got %q", sc.Users[0].Name)
	}
	want := map[string][]byte{
		"main.star":  []byte("load('lib/l.star', 'f')\nrows = csv('data/u.csv')\nusers = user(name=rows[0]['n'], tasks=[f])\n"),
		"lib/l.star": []byte("def f(u): pass\n"),
		"data/u.csv": []byte("n\nAlice\n"),
	}
	if !reflect.DeepEqual(sc.Files, want) {
		t.Errorf("Files: got %q", sc.Files)
	}
	// The bundle loads the same on a worker.
	sc2, err := LoadFiles(sc.Files, "main.star", Options{})
	if err != nil || sc2.Users[0].Name != "Alice" {
		t.Errorf("LoadFiles(bundle): %v", err)
	}
	// Errors name the file as the user gave it.
	write("s/bad.star", "load('lib/missing.star', 'f')\n")
	_, err = Load(filepath.Join(dir, "s", "bad.star"), Options{})
	contains(t, errString(err), filepath.Join(dir, "s", "bad.star")+":1:1: cannot load lib/missing.star: open ")
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestCSV(t *testing.T) {
	t.Parallel()
	sc := mustLoad(t, `
rows = csv("users.csv")
raw = csv("users.csv", header=False)
bom = csv("bom.csv")
quoted = csv("sub/q.csv")
def t(u): pass
name = "%s/%s/%d/%s/%s/%d" % (rows[0]["username"], rows[1]["password"], len(raw), raw[0][1], bom[0]["a"], len(quoted))
users = user(name=name + "/" + quoted[0]["x"], tasks=[t])
`, "users.csv", "username,password\nellen_key,education\nbob,builder\n",
		"bom.csv", "\xef\xbb\xbfa,b\n1,2\n",
		"sub/q.csv", "x\n\"a, \"\"b\"\"\"\n")
	if got, want := sc.Users[0].Name, `ellen_key/builder/3/password/1/1/a, "b"`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, k := range []string{"users.csv", "bom.csv", "sub/q.csv"} {
		if _, ok := sc.Files[k]; !ok {
			t.Errorf("Files lacks %s", k)
		}
	}
}

func TestCSVErrors(t *testing.T) {
	t.Parallel()
	const tail = "def t(u): pass\nusers = user(name='U', tasks=[t])\n"
	tests := []struct {
		name  string
		src   string
		extra []string
		want  string
	}{
		{"missing", "x = csv('nope.csv')\n" + tail, nil, "main.star:1:8: csv: cannot read nope.csv: no such file in the bundle"},
		{"wrong field count", "x = csv('u.csv')\n" + tail, []string{"u.csv", "a,b\n1,2\n3\n"}, "u.csv:3:1: wrong number of fields"},
		{"bad quote", "x = csv('u.csv')\n" + tail, []string{"u.csv", "a\n\"x\"y\n"}, `u.csv:2:3: extraneous or missing " in quoted-field`},
		{"empty with header", "x = csv('u.csv')\n" + tail, []string{"u.csv", ""}, "u.csv: empty file: want a header row"},
		{"repeated header", "x = csv('u.csv')\n" + tail, []string{"u.csv", "a,a\n1,2\n"}, `u.csv:1:2: header "a" is empty or repeated`},
		{"at run time", "def t(u):\n    csv('u.csv')\nusers = user(name='U', tasks=[t])\n", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.want == "" {
				return // covered by TestCSVAtRunTime
			}
			le := loadErr(t, tc.src, tc.extra...)
			contains(t, le.Error(), tc.want)
			if strings.Contains(tc.want, "u.csv:") {
				contains(t, le.Traceback, "main.star:1:8: in <toplevel>")
			}
		})
	}
}

func TestEnv(t *testing.T) {
	t.Parallel()
	env := map[string]string{"TARGET": "http://127.0.0.1:9", "EMPTY": ""}
	o := Options{Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	sc, err := loadOpts(t, o, `
def t(u): pass
users = user(name="%s|%s|%s|%s" % (env("TARGET"), env("EMPTY", "d"), env("MISSING"), env("MISSING", default="dflt")), tasks=[t])
`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sc.Users[0].Name, "http://127.0.0.1:9||None|dflt"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	sc, err = loadSrc(t, "def t(u): pass\nusers = user(name=str(env('X', 1)), tasks=[t])\n")
	if err != nil || sc.Users[0].Name != "1" {
		t.Errorf("nil Env: got %v %v", sc, err)
	}
}
