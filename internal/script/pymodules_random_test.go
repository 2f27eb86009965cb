package script

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/horde-load/horde/internal/buftest"
	"github.com/horde-load/horde/internal/scenario"
)

func TestRandomModuleMore(t *testing.T) {
	t.Parallel()
	// Counts over many draws from the load-time generator: the bounds are
	// several standard deviations wide, so they hold for any seed.
	const mean = "def mean(xs):\n    return sum(xs) / len(xs)\ndef sd(xs):\n    m = mean(xs)\n    return math.sqrt(sum([(x - m) * (x - m) for x in xs]) / len(xs))"
	const sum = "def sum(xs):\n    t = 0.0\n    for x in xs:\n        t += x\n    return t\ndef inr(x, lo, hi):\n    return lo < x and x < hi"
	runExprCases(t, []exprCase{
		// choices
		{name: "choices k", expr: "len(random.choices([1, 2, 3], k=10))", want: "10"},
		{name: "choices default k is 1", expr: `random.choices(["a"])`, want: `["a"]`},
		{name: "choices from a string", expr: `random.choices("a", k=2)`, want: `["a", "a"]`},
		{name: "choices weights", setup: sum + "\n" + `xs = random.choices(["a", "b"], weights=[1, 3], k=10000)`, expr: `inr(len([x for x in xs if x == "b"]), 7200, 7800)`, want: "True"},
		{name: "choices zero weight never drawn", expr: `random.choices(["a", "b"], weights=[0, 2.5], k=5)`, want: `["b", "b", "b", "b", "b"]`},
		{name: "choices positional weights", expr: `random.choices(["a", "b"], [1, 0], k=3)`, want: `["a", "a", "a"]`},
		{name: "choices cum_weights", expr: `random.choices(["a", "b", "c"], cum_weights=[0, 0, 1], k=3)`, want: `["c", "c", "c"]`},
		{name: "choices k=0", expr: `random.choices([1], k=0)`, want: "[]"},
		{name: "choices both weights", expr: "random.choices([1], weights=[1], cum_weights=[1])", wantErr: "random.choices: cannot give both weights and cum_weights"},
		{name: "choices weights length", expr: "random.choices([1, 2], weights=[1])", wantErr: "random.choices: the number of weights (1) does not match the population (2)"},
		{name: "choices empty population", expr: "random.choices([])", wantErr: "random.choices: cannot choose from an empty population"},
		{name: "choices all zero", expr: "random.choices([1, 2], weights=[0, 0])", wantErr: "random.choices: total of weights must be greater than zero and finite"},
		{name: "choices negative weight", expr: "random.choices([1, 2], weights=[-1, 2])", wantErr: "random.choices: weights must be >= 0, got -1"},
		{name: "choices decreasing cum_weights", expr: "random.choices([1, 2], cum_weights=[2, 1])", wantErr: "random.choices: cum_weights must not decrease"},
		{name: "choices weight not a number", expr: `random.choices([1], weights=["x"])`, wantErr: "random.choices: weights[0] must be a number, got string"},
		{name: "choices negative k", expr: "random.choices([1], k=-1)", wantErr: "random.choices: k must be >= 0, got -1"},
		// sample
		{name: "sample is a permutation at k=n", expr: "sorted(random.sample(range(10), 10))", want: "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"},
		{name: "sample is distinct", expr: "len(set(random.sample(range(1000), 500)))", want: "500"},
		{name: "sample from a tuple", expr: `random.sample(("x",), 1)`, want: `["x"]`},
		{name: "sample of nothing", expr: "random.sample([1, 2], 0)", want: "[]"},
		{name: "sample covers the population", expr: "len(set([random.sample([1, 2, 3], 1)[0] for _ in range(200)]))", want: "3"},
		{name: "sample too large", expr: "random.sample([1, 2], 3)", wantErr: "random.sample: sample larger than population or is negative (k=3, population of 2)"},
		{name: "sample of a dict", expr: "random.sample({1: 2}, 1)", wantErr: "random.sample: for parameter population: got dict, want starlark.Indexable"},
		// distributions
		{name: "expovariate mean", setup: mean + "\n" + sum + "\nxs = [random.expovariate(2) for _ in range(20000)]", expr: "(inr(mean(xs), 0.48, 0.52), min(xs) >= 0)", want: "(True, True)"},
		{name: "expovariate zero", expr: "random.expovariate(0)", wantErr: "random.expovariate: lambd must not be zero"},
		{name: "gauss mean and sd", setup: mean + "\n" + sum + "\nxs = [random.gauss(10, 2) for _ in range(20000)]", expr: "(inr(mean(xs), 9.95, 10.05), inr(sd(xs), 1.95, 2.05))", want: "(True, True)"},
		{name: "normalvariate mean and sd", setup: mean + "\n" + sum + "\nxs = [random.normalvariate(mu=-1, sigma=0.5) for _ in range(20000)]", expr: "(inr(mean(xs), -1.02, -0.98), inr(sd(xs), 0.48, 0.52))", want: "(True, True)"},
		{name: "gauss defaults", setup: mean + "\n" + sum + "\nxs = [random.gauss() for _ in range(20000)]", expr: "inr(mean(xs), -0.03, 0.03)", want: "True"},
		{name: "triangular bounds and mode", setup: mean + "\n" + sum + "\nxs = [random.triangular(1, 4, 1) for _ in range(20000)]", expr: "(min(xs) >= 1, max(xs) <= 4, inr(mean(xs), 1.97, 2.03))", want: "(True, True, True)"},
		{name: "triangular default mode", setup: mean + "\n" + sum + "\nxs = [random.triangular(0, 10) for _ in range(20000)]", expr: "inr(mean(xs), 4.9, 5.1)", want: "True"},
		{name: "triangular empty range", expr: "random.triangular(3, 3)", want: "3.0"},
		{name: "triangular bad mode", expr: `random.triangular(0, 1, "x")`, wantErr: "random.triangular: mode: got string, want int or float"},
		// randrange
		{name: "randrange stop", expr: "sorted(set([random.randrange(3) for _ in range(300)]))", want: "[0, 1, 2]"},
		{name: "randrange start stop", expr: "sorted(set([random.randrange(5, 8) for _ in range(300)]))", want: "[5, 6, 7]"},
		{name: "randrange step", expr: "sorted(set([random.randrange(0, 10, 5) for _ in range(300)]))", want: "[0, 5]"},
		{name: "randrange uneven step", expr: "sorted(set([random.randrange(1, 8, 3) for _ in range(300)]))", want: "[1, 4, 7]"},
		{name: "randrange negative step", expr: "sorted(set([random.randrange(10, 0, -4) for _ in range(300)]))", want: "[2, 6, 10]"},
		{name: "randrange whole int64", expr: "type(random.randrange(-9223372036854775808, 9223372036854775807))", want: `"int"`},
		{name: "randrange empty", expr: "random.randrange(0)", wantErr: "random.randrange: empty range (0, 0, 1)"},
		{name: "randrange wrong direction", expr: "random.randrange(5, 1)", wantErr: "random.randrange: empty range (5, 1, 1)"},
		{name: "randrange zero step", expr: "random.randrange(0, 5, 0)", wantErr: "random.randrange: step must not be zero"},
		{name: "randrange float", expr: "random.randrange(1.5)", wantErr: "random.randrange: for parameter start: got float, want int"},
		// getrandbits
		{name: "getrandbits small", expr: "max([random.getrandbits(3) for _ in range(200)])", want: "7"},
		{name: "getrandbits zero", expr: "random.getrandbits(0)", want: "0"},
		{name: "getrandbits 64", expr: "max([random.getrandbits(64) for _ in range(50)]) >= (1 << 62)", want: "True"},
		{name: "getrandbits big", expr: "[x >= 0 and x < (1 << 100) for x in [random.getrandbits(100) for _ in range(50)]] == [True] * 50 and max([random.getrandbits(100) for _ in range(50)]) >= (1 << 96)", want: "True"},
		{name: "getrandbits negative", expr: "random.getrandbits(-1)", wantErr: "random.getrandbits: k must be in [0, 1048576], got -1"},
	})
}

// Inside a user every random function draws from that user's own source:
// two users seeded alike draw alike, another draws otherwise.
func TestRandomMoreDrawsFromTheUsersSource(t *testing.T) {
	t.Parallel()
	out := &buftest.Buffer{}
	sc, err := loadOpts(t, Options{Stdout: out}, `
def t(u):
    print(random.choices(range(1000), k=3), random.sample(range(1000), 3), random.randrange(1000),
          random.getrandbits(30), random.gauss(), random.expovariate(1), random.triangular(), random.normalvariate())
users = user(name="U", tasks=[t])
`)
	if err != nil {
		t.Fatal(err)
	}
	run := func(id int, seed uint64) string {
		vu := &scenario.VU{ID: id, Rec: &fakeRec{}, Rand: rand.New(rand.NewPCG(seed, 7))}
		if err := task(t, sc, "t")(t.Context(), vu); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		_, line, _ := strings.Cut(lines[len(lines)-1], "] ")
		return line
	}
	a, b, c := run(1, 42), run(2, 42), run(3, 43)
	if a != b {
		t.Errorf("same seed, different draws:\n%s\n%s", a, b)
	}
	if a == c {
		t.Errorf("different seeds, same draws: %s", a)
	}
}
