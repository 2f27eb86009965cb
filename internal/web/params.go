package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/horde-load/horde/internal/master"
	"github.com/horde-load/horde/internal/timespan"
)

// This file parses what clients send to start or edit a test: the JSON of
// POST /api/v1/test and the form of Locust's POST /swarm. Both become a
// testInput, and one function turns that into master.TestParams, so the
// two routes cannot disagree.

const (
	// maxUsers bounds users: far above any real test, far below int
	// overflow on any platform.
	maxUsers = 1_000_000_000
	// maxSpawnRate bounds users started per second.
	maxSpawnRate = 1e9
	// defaultSpawnRate is used when neither the request nor an earlier
	// test gave one: Locust's default.
	defaultSpawnRate = 1
	// maxBody bounds the body of a start request.
	maxBody = 64 << 10
)

// field is one input value as text, and whether the client gave it.
type field struct {
	set bool
	v   string
}

// testInput is what a client asked for; absent fields keep their value
// (see params).
type testInput struct {
	users, spawnRate, runTime, host, rate field
}

// errInput is wrapped by every refusal of a request's input (400).
var errInput = errors.New("bad request")

func inputErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errInput, fmt.Sprintf(format, args...))
}

// testJSONKeys are the keys POST /api/v1/test accepts.
var testJSONKeys = []string{"users", "spawn_rate", "run_time", "host", "rate"}

// decodeTestJSON reads the body of POST /api/v1/test: a JSON object with
// users (a number), spawn_rate (a number), run_time (a duration string
// like "10m" or a number of seconds), host (a string) and rate (open-model
// arrivals per second; users is then the pool of users). Numbers given as
// strings ("50") are accepted; null counts as absent; an unknown key is
// refused, so that a misspelt field is not silently ignored.
func decodeTestJSON(body []byte) (testInput, error) {
	var in testInput
	var obj map[string]json.RawMessage
	if len(bytes.TrimSpace(body)) == 0 {
		return in, inputErr(`empty body: want a JSON object like {"users": 10, "spawn_rate": 2}`)
	}
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return in, inputErr(`the body is not a JSON object like {"users": 10, "spawn_rate": 2}`)
	}
	for k := range obj {
		if !slices.Contains(testJSONKeys, k) {
			return in, inputErr("unknown field %q (known: %s)", k, strings.Join(testJSONKeys, ", "))
		}
	}
	var err error
	get := func(key string, dst *field, stringOK, numberOK bool) {
		if err == nil {
			*dst, err = jsonField(key, obj[key], stringOK, numberOK)
		}
	}
	get("users", &in.users, true, true)
	get("spawn_rate", &in.spawnRate, true, true)
	get("run_time", &in.runTime, true, true)
	get("host", &in.host, true, false)
	get("rate", &in.rate, true, true)
	return in, err
}

// jsonField turns one JSON value into a field: a number keeps its literal
// text, a string its content.
func jsonField(key string, raw json.RawMessage, stringOK, numberOK bool) (field, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return field{}, nil
	}
	switch {
	case raw[0] == '"' && stringOK:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return field{}, inputErr("%s: %v", key, err)
		}
		return field{set: true, v: s}, nil
	case (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') && numberOK:
		return field{set: true, v: string(raw)}, nil
	case numberOK:
		return field{}, inputErr("%s: want a number, got %s", key, clip(string(raw)))
	default:
		return field{}, inputErr("%s: want a string, got %s", key, clip(string(raw)))
	}
}

// decodeSwarmForm reads Locust's POST /swarm form: user_count, spawn_rate,
// host and run_time. Other fields (user_classes, shape_class, custom
// arguments) are ignored, as Locust ignores what it does not know; an
// empty field counts as absent, as the form of Locust's UI sends them.
func decodeSwarmForm(form url.Values) testInput {
	get := func(k string) field {
		v := strings.TrimSpace(form.Get(k))
		return field{set: v != "", v: v}
	}
	return testInput{users: get("user_count"), spawnRate: get("spawn_rate"), runTime: get("run_time"), host: get("host")}
}

// params turns the input into master.TestParams for a test whose status
// is st, at now. users is required. Absent fields keep what the test has:
// the spawn rate of the running (or last) test, else defaultSpawnRate;
// the host; and, when editing a running test, the time that remains of
// its run-time limit (give run_time 0 to lift it). names maps the fields
// to the client's names for them, for the error messages.
func (in testInput) params(st master.Status, now time.Time, names inputNames) (master.TestParams, error) {
	var p master.TestParams
	if !in.users.set {
		return p, inputErr("%s is required", names.users)
	}
	users, err := parseUsers(names.users, in.users.v)
	if err != nil {
		return p, err
	}
	p.Users = users
	p.SpawnRate = defaultSpawnRate
	if st.SpawnRate > 0 && !math.IsInf(st.SpawnRate, 0) {
		p.SpawnRate = st.SpawnRate
	}
	if in.spawnRate.set {
		if p.SpawnRate, err = parseRate(names.spawnRate, in.spawnRate.v); err != nil {
			return p, err
		}
	}
	if p.RunTime, err = runTimeOf(in.runTime, st, now, names.runTime); err != nil {
		return p, err
	}
	if in.host.set {
		p.Host = strings.TrimSpace(in.host.v)
	}
	// An edit of an open-model test keeps its rate unless given.
	p.Rate = st.ArrivalRate
	if in.rate.set {
		if p.Rate, err = parseArrivalRate(in.rate.v); err != nil {
			return p, err
		}
	}
	return p, nil
}

// inputNames are the names a route gives the fields.
type inputNames struct{ users, spawnRate, runTime string }

var (
	apiNames    = inputNames{users: "users", spawnRate: "spawn_rate", runTime: "run_time"}
	locustNames = inputNames{users: "user_count", spawnRate: "spawn_rate", runTime: "run_time"}
)

func parseUsers(name, s string) (int, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) {
		return 0, inputErr("%s: want a whole number, got %q", name, clip(s))
	}
	if f < 0 || f > maxUsers {
		return 0, inputErr("%s: want 0 to %d, got %s", name, maxUsers, clip(s))
	}
	return int(f), nil
}

func parseRate(name, s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, inputErr("%s: want a number, got %q", name, clip(s))
	}
	if f <= 0 || f > maxSpawnRate {
		return 0, inputErr("%s: want more than 0 and at most %g users per second, got %s", name, float64(maxSpawnRate), clip(s))
	}
	return f, nil
}

// parseArrivalRate parses rate: 0 (the closed model) or more arrivals
// per second.
func parseArrivalRate(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, inputErr("rate: want a number of arrivals per second, got %q", clip(s))
	}
	if f < 0 || f > maxSpawnRate {
		return 0, inputErr("rate: want 0 (closed model) to %g arrivals per second, got %s", float64(maxSpawnRate), clip(s))
	}
	return f, nil
}

// runTimeOf parses run_time; absent (or empty) while a test with a limit
// runs, it returns what remains of that limit, so an edit of the users
// does not lift it.
func runTimeOf(f field, st master.Status, now time.Time, name string) (time.Duration, error) {
	if f.set && strings.TrimSpace(f.v) != "" {
		d, err := timespan.Parse(f.v)
		if err != nil {
			return 0, inputErr("%s: %v", name, err)
		}
		return d, nil
	}
	running := st.State == master.StateSpawning || st.State == master.StateRunning
	if !running || st.RunTime <= 0 || st.Started.IsZero() {
		return 0, nil
	}
	// A limit already reached still stops the test: never 0, which
	// would lift it.
	return max(st.Started.Add(st.RunTime).Sub(now), time.Nanosecond), nil
}

// clip shortens what a client sent before it is echoed in an error.
func clip(s string) string {
	const n = 40
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
