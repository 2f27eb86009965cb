package threshold

import (
	"math"
	"testing"
)

// sameThreshold compares the parsed parts of two thresholds (not Expr).
func sameThreshold(a, b Threshold) bool {
	return a.endpoint == b.endpoint && a.metric == b.metric && a.q == b.q &&
		a.op == b.op && a.limit == b.limit
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"p95<300ms", "p99.9<1s", "avg<200ms", "fail_ratio<0.01", "rps>500",
		"GET /profile: p99<500ms", "/login: fail_ratio == 0", "fail_ratio<1%",
		"p97 >= 1e3us", "max<0.025m", "requests!=10", "a:b:c: p100<1", "p95=1",
		"p0<1", "p95<NaN", "med<-0", "current_rps<=1.5e+2", "", ":",
	} {
		f.Add(s)
	}
	snap := testSnapshot()
	f.Fuzz(func(t *testing.T, s string) {
		th, err := Parse(s)
		if err != nil {
			return
		}
		canon := th.String()
		again, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) ok but its String() %q fails: %v", s, canon, err)
		}
		if !sameThreshold(th, again) {
			t.Fatalf("Parse(%q) = %+v, but Parse(String() = %q) = %+v", s, th, canon, again)
		}
		if again.String() != canon {
			t.Fatalf("String() is not canonical: %q then %q", canon, again.String())
		}
		if math.IsNaN(th.limit) || math.IsInf(th.limit, 0) || th.limit < 0 {
			t.Fatalf("Parse(%q) accepted the limit %v", s, th.limit)
		}
		r := th.Evaluate(snap)
		if math.IsNaN(r.Value) || math.IsInf(r.Value, 0) {
			t.Fatalf("Evaluate(%q) value %v is not finite", s, r.Value)
		}
		if r.Expr != th.Expr {
			t.Fatalf("Evaluate(%q) Expr = %q", s, r.Expr)
		}
		if th.Crossed(snap) && r.Passed {
			t.Fatalf("%q is crossed but passed", s)
		}
	})
}
