package cli

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/target"
	"github.com/horde-load/horde/internal/target/targettest"
)

// The ports of Locust's own example locustfiles in examples/locust/, each
// run headless against a fresh sample app with small, fixed settings
// (--seed, --iterations) and checked for the request pattern its
// original makes: exact counts where the pattern is deterministic, ratios
// within bounds where it is random, the user counts over time of the
// shapes, and the app's own counts equal to horde's.

// portRun is one run of a port.
type portRun struct {
	r      result
	s      summary
	got    map[string]int64 // horde's count per "METHOD name"
	served map[string]int64 // the sample app's count per "METHOD path"
}

// pendingRun is a run of a port under way. The runs of every port start
// at once, so the test lasts as long as the longest: most of a run is
// users waiting, which -parallel (the number of CPUs) would serialize.
type pendingRun struct {
	done chan struct{}
	r    result
	want int
	out  string
	srv  *target.Server
}

// startPort starts examples/locust/<name>.star against a new sample app,
// headless, with args; want is the exit code expected.
func startPort(t *testing.T, name string, env map[string]string, want int, args ...string) *pendingRun {
	t.Helper()
	return startPortScript(t, repoFile("examples", "locust", name+".star"), env, want, args...)
}

func startPortScript(t *testing.T, script string, env map[string]string, want int, args ...string) *pendingRun {
	t.Helper()
	host, srv := targettest.Start(t, target.Options{})
	p := &pendingRun{done: make(chan struct{}), want: want, out: filepath.Join(t.TempDir(), "summary.json"), srv: srv}
	args = append([]string{"run", script, "-H", host, "--headless", "--json", p.out, "--seed", "7"}, args...)
	go func() {
		defer close(p.done)
		p.r = horde(t, env, args...)
	}()
	t.Cleanup(func() { <-p.done }) // before the sample app stops, should the test end early
	return p
}

// wait waits for the run's end, checks its exit code and that no script
// error happened, and reads its summary and what the sample app served.
func (p *pendingRun) wait(t *testing.T) portRun {
	t.Helper()
	<-p.done
	if p.r.code != p.want {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", p.r.code, p.want, p.r.stdout, p.r.stderr)
	}
	s := readSummary(t, p.out)
	for _, e := range s.Exceptions { // no port is meant to raise
		t.Errorf("script error (%d times): %s\n%s", e.Count, e.Message, e.Traceback)
	}
	return portRun{r: p.r, s: s, got: s.endpointCounts(), served: p.srv.Counts()}
}

// servedAsCounted checks that the sample app served what horde counted:
// each row of horde's goes to the app's "METHOD path" (the row's name
// without its query, or rename[row] for rows named with name=); rows of
// absolute URLs (another host) are left out.
func servedAsCounted(t *testing.T, p portRun, rename map[string]string) {
	t.Helper()
	want := map[string]int64{}
	for row, n := range p.got {
		method, name, _ := strings.Cut(row, " ")
		if k, ok := rename[row]; ok {
			want[k] += n
			continue
		}
		if strings.HasPrefix(name, "http://") || strings.HasPrefix(name, "https://") {
			continue
		}
		path, _, _ := strings.Cut(name, "?")
		want[method+" "+path] += n
	}
	if !maps.Equal(want, p.served) {
		t.Errorf("the sample app served %v; horde counted %v (as paths: %v)", p.served, p.got, want)
	}
}

// wantCounts checks horde's counts per row, exactly, and that there are
// no other rows.
func wantCounts(t *testing.T, p portRun, want map[string]int64) {
	t.Helper()
	if !maps.Equal(p.got, want) {
		t.Errorf("horde counted %v, want %v", p.got, want)
	}
}

// failuresOf is the failures horde counted per row.
func failuresOf(s summary) map[string]int64 {
	m := map[string]int64{}
	for _, e := range s.Endpoints {
		if e.Failures > 0 {
			m[e.Method+" "+e.Name] = e.Failures
		}
	}
	return m
}

// inBounds checks lo <= n <= hi, naming what n is.
func inBounds(t *testing.T, what string, n, lo, hi float64) {
	t.Helper()
	if n < lo || n > hi {
		t.Errorf("%s = %.3g, want within [%g, %g]", what, n, lo, hi)
	}
}

// TestLocustExamplesAreTested keeps the list of ports and the README in
// step with the directory.
func TestLocustExamplesAreTested(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob(repoFile("examples", "locust", "*.star"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no ports in examples/locust: %v", err)
	}
	readme, err := os.ReadFile(repoFile("examples", "locust", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".star")
		names = append(names, name)
		if !strings.Contains(string(readme), "("+name+".star)") {
			t.Errorf("examples/locust/README.md does not link %s.star", name)
		}
	}
	var tested []string
	for _, p := range locustPorts {
		tested = append(tested, p.name)
	}
	if !slices.Equal(names, tested) {
		t.Errorf("ports in examples/locust: %v; TestLocustExamples tests %v", names, tested)
	}
}

// locustPorts are the ports' checks, by file name: each starts the runs
// of its port and returns the check of their results.
var locustPorts = []struct {
	name  string
	start func(t *testing.T) func(t *testing.T)
}{
	{"basic", basicPort},
	{"custom_wait_function", customWaitPort},
	{"double_wave", doubleWavePort},
	{"dynamic_user_credentials", dynamicCredentialsPort},
	{"markov_store", markovStorePort},
	{"markov_taskset", markovTransitionsPort},
	{"multiple_hosts", multipleHostsPort},
	{"nested_inline_tasksets", nestedTaskSetsPort},
	{"quickstart", quickstartPort},
	{"response_validations", responseValidationsPort},
	{"rest", restPort},
	{"stages", stagesPort},
	{"staging_user_classes", stagingUserClassesPort},
	{"step_load", stepLoadPort},
	{"tags", tagsPort},
	{"testdata_from_csv", csvDataPort},
	{"wait_user_count", waitUserCountPort},
}

// TestLocustExamples starts the runs of every port at once, then checks
// each: the test lasts as long as its longest run (a shape's 25 s).
func TestLocustExamples(t *testing.T) {
	t.Parallel()
	checks := make([]func(t *testing.T), len(locustPorts))
	for i, p := range locustPorts {
		checks[i] = p.start(t)
	}
	for i, p := range locustPorts {
		t.Run(p.name, checks[i])
	}
}

// basic.py: a task set of three tasks of weight 1, one of them a 404.
func basicPort(t *testing.T) func(t *testing.T) {
	run := startPort(t, "basic", nil, exitcode.Failed, "-u", "40", "-r", "100", "-i", "3", "-t", "60s")
	return func(t *testing.T) {
		p := run.wait(t)
		total := float64(p.s.Totals.Requests)
		if total != 120 {
			t.Errorf("%v requests, want 40 users × 3 tasks = 120", total)
		}
		for _, row := range []string{"GET /", "GET /echo", "GET /does_not_exist"} {
			inBounds(t, row+" share", float64(p.got[row])/total, 0.2, 0.47) // 1/3 each
		}
		if f := failuresOf(p.s); len(f) != 1 || f["GET /does_not_exist"] != p.got["GET /does_not_exist"] {
			t.Errorf("failures %v: want every /does_not_exist (a 404) and nothing else", f)
		}
		servedAsCounted(t, p, nil)
	}
}

// dynamic_user_credentials.py: the first three users log in, with a form;
// every user asks the protected page, which refuses the two without.
func dynamicCredentialsPort(t *testing.T) func(t *testing.T) {
	run := startPort(t, "dynamic_user_credentials", nil, exitcode.Failed, "-u", "5", "-r", "100", "-i", "1", "-t", "60s")
	return func(t *testing.T) {
		p := run.wait(t)
		wantCounts(t, p, map[string]int64{"POST /login": 3, "GET /profile": 5})
		if f := failuresOf(p.s); !maps.Equal(f, map[string]int64{"GET /profile": 2}) {
			t.Errorf("failures %v: want the 2 users without credentials refused at /profile", f)
		}
		servedAsCounted(t, p, nil)
	}
}

// nested_inline_tasksets.py: a user in IndexTaskSet asks "/" until it
// interrupts (1 in 11), then TopLevelTaskSet picks again. The waits are
// divided by 100 here so that the walks are long enough to show the
// ratio within a few seconds.
func nestedTaskSetsPort(t *testing.T) func(t *testing.T) {
	src, err := os.ReadFile(repoFile("examples", "locust", "nested_inline_tasksets.star"))
	if err != nil {
		t.Fatal(err)
	}
	const wait = "wait=between(2, 5)"
	if !strings.Contains(string(src), wait) {
		t.Fatalf("nested_inline_tasksets.star no longer has %s", wait)
	}
	script := writeStar(t, strings.ReplaceAll(string(src), wait, "wait=between(0.02, 0.05)"))
	run := startPortScript(t, script, nil, exitcode.OK, "-u", "20", "-r", "100", "-i", "30", "-t", "60s")
	return func(t *testing.T) {
		p := run.wait(t)
		index, stats := p.got["GET /"], p.got["GET /echo"]
		interrupts := 20*30 - index - stats // the stop tasks, which make no request
		if len(p.got) != 2 || stats == 0 || interrupts <= 0 {
			t.Fatalf("counts %v: want / and /echo, and some interrupts", p.got)
		}
		// 10 "/" per visit of IndexTaskSet, one /echo per other pick: about
		// 7.5 with 30 tasks per user (a walk cut short counts less).
		inBounds(t, "requests of / per request of /echo", float64(index)/float64(stats), 3.5, 16)
		inBounds(t, "requests of / per interrupt", float64(index)/float64(interrupts), 5, 20) // 10
		servedAsCounted(t, p, nil)
	}
}

// markov_taskset.py: six tasks that print, walking the transitions from
// method1. Each user's walk must follow the declared transitions.
func markovTransitionsPort(t *testing.T) func(t *testing.T) {
	run := startPort(t, "markov_taskset", nil, exitcode.OK, "-u", "3", "-r", "100", "-i", "6", "-t", "60s")
	return func(t *testing.T) {
		p := run.wait(t)
		next := map[int][]int{1: {2}, 2: {3, 1}, 3: {4, 2, 1}, 4: {5, 3}, 5: {6, 4}, 6: {1, 5}}
		walks := map[string][]int{}
		line := regexp.MustCompile(`(?m)^\[user (\d+)\] Method (\d):`)
		for _, m := range line.FindAllStringSubmatch(p.r.stdout+p.r.stderr, -1) {
			k, _ := strconv.Atoi(m[2])
			walks[m[1]] = append(walks[m[1]], k)
		}
		if len(walks) != 3 {
			t.Fatalf("walks of %d users printed, want 3:\n%s", len(walks), p.r.stdout)
		}
		for u, w := range walks {
			if len(w) != 6 || w[0] != 1 {
				t.Errorf("user %s walked %v: want 6 steps from method1", u, w)
				continue
			}
			for i := 1; i < len(w); i++ {
				if !slices.Contains(next[w[i-1]], w[i]) {
					t.Errorf("user %s walked %v: method%d → method%d is not a transition", u, w, w[i-1], w[i])
				}
			}
		}
		if p.s.Totals.Requests != 0 || len(p.served) != 0 {
			t.Errorf("the tasks make no request; horde counted %d, the app served %v", p.s.Totals.Requests, p.served)
		}
	}
}

// markov-taskset/store-locustfile.py: a shop's Markov chain; a checkout
// leaves the set, which starts again at the catalog.
func markovStorePort(t *testing.T) func(t *testing.T) {
	const users, iters = 20, 8
	run := startPort(t, "markov_store", nil, exitcode.OK, "-u", strconv.Itoa(users), "-r", "100", "-i", strconv.Itoa(iters), "-t", "60s")
	return func(t *testing.T) {
		p := run.wait(t)
		catalog, product := p.got["GET /"], p.got["GET /status/200"]
		cart, checkout := p.got["POST /echo"], p.got["POST /status/201"]
		if catalog+product+cart+checkout != users*iters || len(p.got) != 4 {
			t.Fatalf("counts %v: want %d requests on the four pages", p.got, users*iters)
		}
		if catalog < users {
			t.Errorf("%d catalog pages for %d users: every walk starts at the catalog", catalog, users)
		}
		if product < catalog-users {
			t.Errorf("%d product pages after %d catalog pages: the catalog always leads to a product", product, catalog)
		}
		// A product page leads to the cart 3 times in 5, and only it does.
		inBounds(t, "carts per product page", float64(cart)/float64(product), 0.35, 0.85)
		if checkout == 0 {
			t.Error("no checkout")
		}
		servedAsCounted(t, p, nil)
	}
}

// rest.py: rest() requests, the failures they are meant to show.
func restPort(t *testing.T) func(t *testing.T) {
	run := startPort(t, "rest", nil, exitcode.Failed, "-u", "2", "-r", "100", "-i", "1", "-t", "60s")
	return func(t *testing.T) {
		p := run.wait(t)
		wantCounts(t, p, map[string]int64{
			"GET /echo": 1, "POST /echo": 6, "GET /": 3, "GET /status/404": 1, "POST http://127.0.0.1:1/": 1,
		})
		want := map[string]int64{"POST /echo": 5, "GET /": 3, "GET /status/404": 1, "POST http://127.0.0.1:1/": 1}
		if f := failuresOf(p.s); !maps.Equal(f, want) {
			t.Errorf("failures %v, want %v", f, want)
		}
		var errs []string
		for _, e := range p.s.Errors {
			errs = append(errs, e.Method+" "+e.Name+": "+e.Error)
		}
		mustContain(t, "the errors", strings.Join(errs, "\n"), "POST /echo: Assertion failed", "POST /echo: my custom error message",
			"POST /echo: my custom error message with response text, response was {", "GET /: Could not parse response as JSON.",
			"GET /status/404: HTTP 404", "POST http://127.0.0.1:1/: connection refused")
		servedAsCounted(t, p, nil)
	}
}

// response_validations.py: a login, then a checkout; a failed request
// ends the task before the checkout.
func responseValidationsPort(t *testing.T) func(t *testing.T) {
	args := []string{"-u", "2", "-r", "100", "-i", "3", "-t", "60s"}
	passing := startPort(t, "response_validations", nil, exitcode.OK, args...)
	failing := startPort(t, "response_validations", map[string]string{"PASSWORD": ""}, exitcode.Failed, args...)
	return func(t *testing.T) {
		t.Run("passing", func(t *testing.T) {
			p := passing.wait(t)
			wantCounts(t, p, map[string]int64{"POST /login": 6, "POST /echo": 6})
			servedAsCounted(t, p, nil)
		})
		t.Run("failed login", func(t *testing.T) {
			p := failing.wait(t)
			wantCounts(t, p, map[string]int64{"POST /login": 6})
			if f := failuresOf(p.s); f["POST /login"] != 6 {
				t.Errorf("failures %v: want every login", f)
			}
			servedAsCounted(t, p, nil)
		})
	}
}

// testdata_from_csv.py: a login per task with the next row of the file.
func csvDataPort(t *testing.T) func(t *testing.T) {
	run := startPort(t, "testdata_from_csv", nil, exitcode.OK, "-u", "3", "-r", "100", "-i", "4", "-t", "60s")
	return func(t *testing.T) {
		p := run.wait(t)
		wantCounts(t, p, map[string]int64{"POST /login": 12})
		servedAsCounted(t, p, nil)
	}
}

// multiple_hosts.py: one task to the user's host, one to API_HOST.
func multipleHostsPort(t *testing.T) func(t *testing.T) {
	api, apiSrv := targettest.Start(t, target.Options{})
	run := startPort(t, "multiple_hosts", map[string]string{"API_HOST": api}, exitcode.OK, "-u", "20", "-r", "100", "-i", "3", "-t", "60s")
	return func(t *testing.T) {
		p := run.wait(t)
		apiRow := "GET " + api + "/echo"
		home, other := p.got["GET /"], p.got[apiRow]
		if home+other != 60 || len(p.got) != 2 {
			t.Errorf("counts %v: want 60 requests, to / and to %s", p.got, apiRow)
		}
		inBounds(t, "share of the API host", float64(other)/60, 0.25, 0.75)
		servedAsCounted(t, p, nil)
		if served := apiSrv.Counts(); !maps.Equal(served, map[string]int64{"GET /echo": other}) {
			t.Errorf("the API host served %v, want %d GET /echo", served, other)
		}
		r := horde(t, nil, "run", repoFile("examples", "locust", "multiple_hosts.star"), "--headless", "-H", api)
		if r.code != exitcode.BadInput || !strings.Contains(r.stderr, "set API_HOST") {
			t.Errorf("without API_HOST: exit %d, %q; want 2 and a message", r.code, r.stderr)
		}
	}
}

// custom_wait_function.py: exponential waits; StrictWebsiteUser's are
// between 3 and 7 s, so its 3 tasks take 6 to 14 s.
func customWaitPort(t *testing.T) func(t *testing.T) {
	run := startPort(t, "custom_wait_function", nil, exitcode.Failed, "-u", "10", "-r", "100", "-i", "3", "-t", "60s")
	return func(t *testing.T) {
		p := run.wait(t)
		if p.s.Totals.Requests != 30 {
			t.Errorf("%d requests, want 10 users × 3 tasks", p.s.Totals.Requests)
		}
		for _, row := range []string{"GET /", "GET /echo", "GET /does_not_exist"} {
			inBounds(t, row+" share", float64(p.got[row])/30, 0.1, 0.6)
		}
		inBounds(t, "the test's duration (s)", p.s.DurationS, 6, 18)
		servedAsCounted(t, p, nil)
	}
}

// tags (Locust's documentation): --tags and --exclude-tags pick tasks.
func tagsPort(t *testing.T) func(t *testing.T) {
	cases := []struct {
		args []string
		rows []string
		run  *pendingRun
	}{
		{nil, []string{"201", "202", "203", "204"}, nil},
		{[]string{"--tags", "tag1"}, []string{"201", "202"}, nil},
		{[]string{"--tags", "tag2,tag3"}, []string{"202", "203"}, nil},
		{[]string{"--exclude-tags", "tag3"}, []string{"201", "202", "204"}, nil},
		{[]string{"--tags", "tag1", "--exclude-tags", "tag2"}, []string{"201"}, nil},
	}
	for i, tc := range cases {
		cases[i].run = startPort(t, "tags", nil, exitcode.OK, append([]string{"-u", "4", "-r", "100", "-i", "3", "-t", "60s"}, tc.args...)...)
	}
	return func(t *testing.T) {
		for _, tc := range cases {
			name := strings.Join(tc.args, " ")
			if name == "" {
				name = "every task"
			}
			t.Run(name, func(t *testing.T) {
				p := tc.run.wait(t)
				var rows []string
				for row := range p.got {
					rows = append(rows, strings.TrimPrefix(row, "GET /status/"))
				}
				slices.Sort(rows)
				if !slices.Equal(rows, tc.rows) || p.s.Totals.Requests != 12 {
					t.Errorf("rows %v (%d requests), want the tasks of /status/%v (12 requests)", p.got, p.s.Totals.Requests, tc.rows)
				}
				servedAsCounted(t, p, nil)
			})
		}
	}
}

// locustfile.py: a login per user; hello_world asks two pages,
// view_item ten items under one row.
func quickstartPort(t *testing.T) func(t *testing.T) {
	run := startPort(t, "quickstart", nil, exitcode.OK, "-u", "4", "-r", "100", "-i", "1", "-t", "60s")
	return func(t *testing.T) {
		p := run.wait(t)
		hello, items := p.got["GET /"], p.got["GET /item"]
		if p.got["POST /login"] != 4 || p.got["GET /profile"] != hello || items%10 != 0 || hello+items/10 != 4 {
			t.Errorf("counts %v: want 4 logins and 4 tasks, each / and /profile, or /item 10 times", p.got)
		}
		servedAsCounted(t, p, map[string]string{"GET /item": "GET /echo"})
	}
}
