package bundle

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/script"
)

func TestHashCoversContentAndSettings(t *testing.T) {
	t.Parallel()
	base := func() *Bundle {
		return &Bundle{Files: map[string][]byte{"a.star": []byte("x"), "d.csv": []byte("1")}, Main: "a.star",
			Host: "http://127.0.0.1:1", StopTimeout: time.Second, RequestTimeout: 2 * time.Second,
			CAPEM: []byte("pem"), Tags: []string{"t"}, ExcludeTags: []string{"e"}, Seed: 7}
	}
	h0 := base().Hash()
	if h0 != base().Hash() {
		t.Fatal("the same bundle hashed twice differs")
	}
	changes := map[string]func(b *Bundle){
		"file content": func(b *Bundle) { b.Files["d.csv"] = []byte("2") },
		"file name":    func(b *Bundle) { b.Files["e.csv"] = b.Files["d.csv"]; delete(b.Files, "d.csv") },
		"main":         func(b *Bundle) { b.Main = "d.csv" },
		"url":          func(b *Bundle) { b.URL = "http://127.0.0.1:2/" },
		"host":         func(b *Bundle) { b.Host = "http://127.0.0.1:2" },
		"stop timeout": func(b *Bundle) { b.StopTimeout = 2 * time.Second },
		"timeout":      func(b *Bundle) { b.RequestTimeout = time.Second },
		"insecure":     func(b *Bundle) { b.Insecure = true },
		"ca":           func(b *Bundle) { b.CAPEM = []byte("other") },
		"tags":         func(b *Bundle) { b.Tags = []string{"u"} },
		"exclude tags": func(b *Bundle) { b.ExcludeTags = nil },
		"seed":         func(b *Bundle) { b.Seed = 8 },
		"iterations":   func(b *Bundle) { b.Iterations = 3 },
	}
	for name, change := range changes {
		b := base()
		change(b)
		if b.Hash() == h0 {
			t.Errorf("changing the %s keeps the hash", name)
		}
	}
}

func TestPBRoundTrip(t *testing.T) {
	t.Parallel()
	b := &Bundle{Files: map[string][]byte{"a.star": []byte("x")}, Main: "a.star", Host: "http://h:1",
		StopTimeout: 1500 * time.Millisecond, RequestTimeout: 3 * time.Second, Insecure: true, CAPEM: []byte("pem"),
		Tags: []string{"a"}, ExcludeTags: []string{"b"}, Seed: 9, Iterations: 4}
	p := b.PB()
	if p.Hash != b.Hash() {
		t.Errorf("wire hash %q, want %q", p.Hash, b.Hash())
	}
	back := FromPB(p)
	if !reflect.DeepEqual(back, b) {
		t.Errorf("round trip\n got %+v\nwant %+v", back, b)
	}
}

// The command line and an in-process worker share one Loader: the
// script's top level runs once, and the worker runs the very scenario the
// master dispatches.
func TestLoaderRunsTheTopLevelOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "s.star")
	src := `print("top level ran")
def index(u):
    u.get("/")
users = [user(name="U", tasks=[index])]
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	l := &Loader{Stdout: &out}
	b, sc, err := l.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	b.Host = "http://127.0.0.1:1" // settings do not change what is loaded
	again, err := l.Load(FromPB(b.PB()), script.Share{Index: 0, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	if again != sc {
		t.Error("the worker's load of the same files did not reuse the scenario")
	}
	if n := strings.Count(out.String(), "top level ran"); n != 1 {
		t.Errorf("the top level ran %d times, want once", n)
	}
	// Another share of split data is another load.
	if _, err := l.Load(b, script.Share{Index: 1, Count: 2}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "top level ran"); n != 2 {
		t.Errorf("a worker with another data share ran the top level %d times in all, want 2", n)
	}
	// A separate process (its own loader) loads from the bundle's files.
	var out2 bytes.Buffer
	sc2, err := (&Loader{Stdout: &out2}).Load(FromPB(b.PB()), script.Share{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sc2.Users) != 1 || sc2.Users[0].Name != "U" || !strings.Contains(out2.String(), "top level ran") {
		t.Errorf("a fresh loader gave users %v, printed %q", sc2.Users, out2.String())
	}
}

func TestOpenURLAndErrors(t *testing.T) {
	t.Parallel()
	l := &Loader{}
	b, sc, err := l.Open("http://127.0.0.1:8080/x?y=1")
	if err != nil || b.URL != "http://127.0.0.1:8080/x?y=1" || b.Main != "" || len(sc.Users) != 1 {
		t.Fatalf("URL mode: bundle %+v, scenario %v, err %v", b, sc, err)
	}
	if sc2, err := l.Load(b, script.Share{}); err != nil || sc2.Users[0].Host != "http://127.0.0.1:8080" {
		t.Fatalf("URL bundle on a worker: %v, %v", sc2, err)
	}
	if _, _, err := l.Open("http://"); err == nil {
		t.Error("a URL without a host was accepted")
	}
	_, _, err = l.Open(filepath.Join(t.TempDir(), "missing.star"))
	var le *script.LoadError
	if err == nil || !errors.As(err, &le) {
		t.Errorf("a missing script: %v, want a *script.LoadError", err)
	}
	if _, err := l.Load(&Bundle{Files: map[string][]byte{}, Main: "nope.star"}, script.Share{}); err == nil {
		t.Error("a bundle without its main script loaded")
	}
}
