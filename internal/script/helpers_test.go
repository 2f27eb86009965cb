package script

import (
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.starlark.net/starlark"
	"go.uber.org/goleak"

	"github.com/horde-load/horde/internal/httpx"
	"github.com/horde-load/horde/internal/scenario"
	"github.com/horde-load/horde/internal/stats"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeRec is a stats.Recorder that keeps everything.
type fakeRec struct {
	mu         sync.Mutex
	samples    []stats.Sample
	exceptions []string
}

func (r *fakeRec) Record(s stats.Sample) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.samples = append(r.samples, s)
}

func (r *fakeRec) Exception(msg, tb string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exceptions = append(r.exceptions, msg+"\n"+tb)
}

func (r *fakeRec) all() []stats.Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]stats.Sample(nil), r.samples...)
}

// echo is what the test server's /echo answers.
type echo struct {
	Method string              `json:"method"`
	Path   string              `json:"path"`
	Query  string              `json:"query"`
	Header map[string][]string `json:"header"`
	Body   string              `json:"body"`
}

// testHandler serves /echo, /status/N, /login (sets a cookie), /slow
// (blocks until the request is cancelled) and /text.
func testHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		_ = json.NewEncoder(w).Encode(echo{r.Method, r.URL.Path, r.URL.RawQuery, r.Header, string(b)})
	})
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		c, _ := strconv.Atoi(r.PathValue("code"))
		w.WriteHeader(c)
		_, _ = io.WriteString(w, "status "+r.PathValue("code"))
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "s3cret", Path: "/"})
		_, _ = io.WriteString(w, `{"token": "tok"}`)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	mux.HandleFunc("/text", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "hello")
	})
	return mux
}

// newServer starts the test handler on 127.0.0.1:0.
func newServer(t testing.TB) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(testHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// newVU makes a VU with its own client against base and a fake recorder.
func newVU(t testing.TB, id int, base string) (*scenario.VU, *fakeRec) {
	t.Helper()
	f, err := httpx.NewFactory(httpx.Options{BaseURL: base, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c := f.NewClient()
	t.Cleanup(c.Close)
	rec := &fakeRec{}
	return &scenario.VU{ID: id, Host: base, HTTP: c, Rec: rec}, rec
}

// loadSrc loads main.star with optional extra files (name, content pairs).
func loadSrc(t testing.TB, src string, extra ...string) (*scenario.Scenario, error) {
	t.Helper()
	return loadOpts(t, Options{}, src, extra...)
}

func loadOpts(t testing.TB, o Options, src string, extra ...string) (*scenario.Scenario, error) {
	t.Helper()
	files := map[string][]byte{"main.star": []byte(src)}
	for i := 0; i+1 < len(extra); i += 2 {
		files[extra[i]] = []byte(extra[i+1])
	}
	return LoadFiles(files, "main.star", o)
}

// mustLoad loads or fails the test.
func mustLoad(t testing.TB, src string, extra ...string) *scenario.Scenario {
	t.Helper()
	sc, err := loadSrc(t, src, extra...)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return sc
}

// task finds a task of the first user class by name.
func task(t testing.TB, sc *scenario.Scenario, name string) scenario.Func {
	t.Helper()
	for _, tk := range sc.Users[0].Tasks {
		if tk.Name == name {
			return tk.Fn
		}
	}
	t.Fatalf("no task %q", name)
	return nil
}

// loadErr loads src and returns the *LoadError, failing if there is none.
func loadErr(t *testing.T, src string, extra ...string) *LoadError {
	t.Helper()
	_, err := loadSrc(t, src, extra...)
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("want *LoadError, got %T %v", err, err)
	}
	return le
}

func contains(t *testing.T, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Errorf("got %q, want it to contain %q", got, want)
	}
}

// newBareVU is a VU without an HTTP client.
func newBareVU(id int, rec *fakeRec) *scenario.VU {
	return &scenario.VU{ID: id, Rec: rec}
}

func mustString(s string) starlark.String { return starlark.String(s) }

// toGo converts decoded JSON-like Starlark values to Go values.
func toGo(v starlark.Value) any {
	switch v := v.(type) {
	case starlark.String:
		return string(v)
	case starlark.Int:
		i, _ := v.Int64()
		return i
	case starlark.Float:
		return float64(v)
	case starlark.Bool:
		return bool(v)
	case *starlark.List:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = toGo(v.Index(i))
		}
		return out
	case *starlark.Dict:
		out := map[string]any{}
		for _, kv := range v.Items() {
			out[string(kv[0].(starlark.String))] = toGo(kv[1])
		}
		return out
	}
	return nil
}
