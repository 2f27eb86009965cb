package script

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"sort"

	"go.starlark.net/starlark"
)

// The functions of `random` beyond the first five (builtins.go), with
// Python's names, arguments and errors.

// randChoices implements choices(population, weights=None, cum_weights=None, k=1).
func randChoices(r *rand.Rand, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pop starlark.Indexable
	var weights, cum starlark.Value = starlark.None, starlark.None
	k := 1
	if err := starlark.UnpackArgs("random.choices", args, kwargs, "population", &pop,
		"weights?", &weights, "cum_weights?", &cum, "k?", &k); err != nil {
		return nil, err
	}
	n := pop.Len()
	if k < 0 {
		return nil, fmt.Errorf("random.choices: k must be >= 0, got %d", k)
	}
	if n == 0 {
		return nil, fmt.Errorf("random.choices: cannot choose from an empty population")
	}
	var acc []float64 // cumulative weights; nil means equal weights
	switch {
	case !isNone(weights) && !isNone(cum):
		return nil, fmt.Errorf("random.choices: cannot give both weights and cum_weights")
	case !isNone(weights):
		w, err := floats("random.choices", "weights", weights, n)
		if err != nil {
			return nil, err
		}
		acc = make([]float64, n)
		total := 0.0
		for i, x := range w {
			if x < 0 {
				return nil, fmt.Errorf("random.choices: weights must be >= 0, got %v", x)
			}
			total += x
			acc[i] = total
		}
	case !isNone(cum):
		var err error
		if acc, err = floats("random.choices", "cum_weights", cum, n); err != nil {
			return nil, err
		}
		for i := 1; i < n; i++ {
			if acc[i] < acc[i-1] {
				return nil, fmt.Errorf("random.choices: cum_weights must not decrease")
			}
		}
	}
	if acc != nil && !(acc[n-1] > 0 && !math.IsInf(acc[n-1], 0)) {
		return nil, fmt.Errorf("random.choices: total of weights must be greater than zero and finite")
	}
	out := make([]starlark.Value, k)
	for i := range out {
		if acc == nil {
			out[i] = pop.Index(r.IntN(n))
			continue
		}
		x := r.Float64() * acc[n-1]
		j := sort.Search(n-1, func(j int) bool { return acc[j] > x })
		out[i] = pop.Index(j)
	}
	return starlark.NewList(out), nil
}

// floats reads a sequence of n numbers.
func floats(fn, what string, v starlark.Value, n int) ([]float64, error) {
	seq, ok := v.(starlark.Indexable)
	if !ok {
		return nil, fmt.Errorf("%s: %s must be a list of numbers, got %s", fn, what, v.Type())
	}
	if seq.Len() != n {
		return nil, fmt.Errorf("%s: the number of %s (%d) does not match the population (%d)", fn, what, seq.Len(), n)
	}
	out := make([]float64, n)
	for i := range out {
		f, ok := starlark.AsFloat(seq.Index(i))
		if !ok || math.IsNaN(f) {
			return nil, fmt.Errorf("%s: %s[%d] must be a number, got %s", fn, what, i, seq.Index(i).Type())
		}
		out[i] = f
	}
	return out, nil
}

// randSample implements sample(population, k): k distinct elements.
func randSample(r *rand.Rand, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pop starlark.Indexable
	var k int
	if err := starlark.UnpackArgs("random.sample", args, kwargs, "population", &pop, "k", &k); err != nil {
		return nil, err
	}
	n := pop.Len()
	if k < 0 || k > n {
		return nil, fmt.Errorf("random.sample: sample larger than population or is negative (k=%d, population of %d)", k, n)
	}
	// A partial Fisher-Yates shuffle of the indexes; a map when k is
	// small beside n keeps a sample of 3 from a million rows cheap.
	swapped := map[int]int{}
	at := func(i int) int {
		if j, ok := swapped[i]; ok {
			return j
		}
		return i
	}
	out := make([]starlark.Value, k)
	for i := range out {
		j := i + r.IntN(n-i)
		vi, vj := at(i), at(j)
		swapped[j] = vi
		out[i] = pop.Index(vj)
	}
	return starlark.NewList(out), nil
}

func randExpovariate(r *rand.Rand, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	lambd := number(1)
	if err := starlark.UnpackArgs("random.expovariate", args, kwargs, "lambd?", &lambd); err != nil {
		return nil, err
	}
	if lambd == 0 {
		return nil, fmt.Errorf("random.expovariate: lambd must not be zero")
	}
	return starlark.Float(-math.Log(1-r.Float64()) / float64(lambd)), nil
}

// randNormal implements gauss(mu=0, sigma=1) and normalvariate.
func randNormal(name string) func(*rand.Rand, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(r *rand.Rand, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		mu, sigma := number(0), number(1)
		if err := starlark.UnpackArgs("random."+name, args, kwargs, "mu?", &mu, "sigma?", &sigma); err != nil {
			return nil, err
		}
		return starlark.Float(float64(mu) + float64(sigma)*r.NormFloat64()), nil
	}
}

// randTriangular implements triangular(low=0, high=1, mode=None) with
// Python's algorithm.
func randTriangular(r *rand.Rand, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	low, high := number(0), number(1)
	var modeV starlark.Value = starlark.None
	if err := starlark.UnpackArgs("random.triangular", args, kwargs, "low?", &low, "high?", &high, "mode?", &modeV); err != nil {
		return nil, err
	}
	lo, hi := float64(low), float64(high)
	if hi == lo {
		return starlark.Float(lo), nil
	}
	c := 0.5
	if !isNone(modeV) {
		var mode number
		if err := mode.Unpack(modeV); err != nil {
			return nil, fmt.Errorf("random.triangular: mode: %w", err)
		}
		c = (float64(mode) - lo) / (hi - lo)
	}
	u := r.Float64()
	if u > c {
		u, c, lo, hi = 1-u, 1-c, hi, lo
	}
	return starlark.Float(lo + (hi-lo)*math.Sqrt(u*c)), nil
}

// randRange implements randrange(stop) and randrange(start, stop, step=1).
func randRange(r *rand.Rand, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var start, stop int64
	var stopV starlark.Value = starlark.None
	step := int64(1)
	if err := starlark.UnpackArgs("random.randrange", args, kwargs, "start", &start, "stop?", &stopV, "step?", &step); err != nil {
		return nil, err
	}
	if isNone(stopV) {
		start, stop = 0, start
	} else if err := starlark.AsInt(stopV, &stop); err != nil {
		return nil, fmt.Errorf("random.randrange: stop: %w", err)
	}
	if step == 0 {
		return nil, fmt.Errorf("random.randrange: step must not be zero")
	}
	var n uint64 // how many values the range holds
	switch {
	case step > 0 && stop > start:
		n = (uint64(stop-start)-1)/uint64(step) + 1
	case step < 0 && stop < start:
		n = (uint64(start-stop)-1)/uint64(-step) + 1
	}
	if n == 0 {
		return nil, fmt.Errorf("random.randrange: empty range (%d, %d, %d)", start, stop, step)
	}
	return starlark.MakeInt64(start + int64(r.Uint64N(n))*step), nil
}

// maxRandBits bounds getrandbits so that a typo cannot ask for gigabytes.
const maxRandBits = 1 << 20

func randGetrandbits(r *rand.Rand, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var k int
	if err := starlark.UnpackArgs("random.getrandbits", args, kwargs, "k", &k); err != nil {
		return nil, err
	}
	if k < 0 || k > maxRandBits {
		return nil, fmt.Errorf("random.getrandbits: k must be in [0, %d], got %d", maxRandBits, k)
	}
	switch {
	case k == 0:
		return starlark.MakeInt(0), nil
	case k <= 63:
		return starlark.MakeInt64(int64(r.Uint64() >> (64 - k))), nil
	}
	b := make([]byte, (k+63)/64*8)
	for i := 0; i < len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	x := new(big.Int).SetBytes(b)
	x.Rsh(x, uint(len(b)*8-k))
	return starlark.MakeBigInt(x), nil
}
