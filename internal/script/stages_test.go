package script

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/scenario"
)

// oneUser is the smallest valid users line, prepended to shape scripts.
const oneUser = "def a(u): pass\nusers = user(name='U', tasks=[a])\n"

func TestStages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		stages string
		want   scenario.Stages
	}{
		{"closed model", `[stage("30s", users=100), stage("1m", users=100), stage("10s", users=0)]`, scenario.Stages{
			{Duration: 30 * time.Second, Users: 100, Rate: -1},
			{Duration: time.Minute, Users: 100, Rate: -1},
			{Duration: 10 * time.Second, Users: 0, Rate: -1},
		}},
		{"open model with a pool", `[stage("1m30s", rate=50), stage(90, rate=200.5, users=300), stage("10s", rate=0)]`, scenario.Stages{
			{Duration: 90 * time.Second, Users: -1, Rate: 50},
			{Duration: 90 * time.Second, Users: 300, Rate: 200.5},
			{Duration: 10 * time.Second, Users: -1, Rate: 0},
		}},
		{"seconds as numbers and strings", `(stage(1.5, users=1), stage("90", users=2), stage("250ms", users=3))`, scenario.Stages{
			{Duration: 1500 * time.Millisecond, Users: 1, Rate: -1},
			{Duration: 90 * time.Second, Users: 2, Rate: -1},
			{Duration: 250 * time.Millisecond, Users: 3, Rate: -1},
		}},
		{"positional users", `[stage("1h", 5)]`, scenario.Stages{{Duration: time.Hour, Users: 5, Rate: -1}}},
		{"None is no shape", `None`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sc := mustLoad(t, oneUser+"stages = "+tc.stages+"\n")
			if tc.want == nil {
				if sc.Shape != nil {
					t.Fatalf("Shape: got %#v, want nil", sc.Shape)
				}
				return
			}
			got, ok := sc.Shape.(scenario.Stages)
			if !ok {
				t.Fatalf("Shape is %T, want scenario.Stages", sc.Shape)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("stages:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestNoShape(t *testing.T) {
	t.Parallel()
	sc := mustLoad(t, oneUser)
	if sc.Shape != nil || sc.Thresholds != nil {
		t.Errorf("got Shape %v, Thresholds %v; want none", sc.Shape, sc.Thresholds)
	}
}

func TestStageValue(t *testing.T) {
	t.Parallel()
	sc := mustLoad(t, oneUser+`
s = stage("1m30s", users=10, rate=2.5)
if str(s) != 'stage("1m30s", users=10, rate=2.5)' or type(s) != "stage":
    fail("got %s %s" % (type(s), s))
stages = [s, s]
x = {s: 1}
`)
	if _, ok := sc.Shape.(scenario.Stages); !ok {
		t.Errorf("Shape is %T", sc.Shape)
	}
}

func TestThresholds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []scenario.ThresholdSpec
	}{
		{"strings and threshold()", `["p95<300ms", threshold("fail_ratio<0.01", abort_on_fail=True), threshold("rps > 10")]`,
			[]scenario.ThresholdSpec{{Expr: "p95<300ms"}, {Expr: "fail_ratio<0.01", AbortOnFail: true}, {Expr: "rps > 10"}}},
		{"tuple", `("p99 < 1s",)`, []scenario.ThresholdSpec{{Expr: "p99 < 1s"}}},
		{"positional abort", `[threshold("p50<10ms", True)]`, []scenario.ThresholdSpec{{Expr: "p50<10ms", AbortOnFail: true}}},
		{"empty list", `[]`, []scenario.ThresholdSpec{}},
		{"None", `None`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sc := mustLoad(t, oneUser+"thresholds = "+tc.src+"\n")
			if !reflect.DeepEqual(sc.Thresholds, tc.want) {
				t.Errorf("got %#v, want %#v", sc.Thresholds, tc.want)
			}
		})
	}
}

func TestShapeLoadErrors(t *testing.T) {
	t.Parallel()
	const lib = "stages = [stage('1s', users=1)]\nthresholds = ['p95<1s']\ndef shape(t): return 1\n"
	tests := []struct {
		name string
		src  string // after oneUser, from line 3
		want string
	}{
		{"stages not a list", "stages = stage('1s', users=1)\n", "main.star:3:1: stages must be a list of stage(...), got stage"},
		{"stages of dicts", "x = 1\nstages = [{'duration': '1s', 'target': 1}]\n", "main.star:4:1: stages[0] must be a stage(...), got dict"},
		{"stages element", "stages = [stage('1s', users=1), 5]\n", "main.star:3:1: stages[1] must be a stage(...), got int"},
		{"stages empty", "stages = []\n", "main.star:3:1: stages is empty: add at least one stage(...)"},
		{"stages mixed models", "stages = [stage('1s', users=1),\n    stage('1s', rate=2)]\n",
			"main.star:3:1: invalid stages: stage 2: every stage sets users (closed model) or every stage sets a rate (open model), not a mix"},
		{"stages too long", "stages = [stage(9e9, users=1), stage(9e9, users=1)]\n", "main.star:3:1: stages: the stages last too long"},
		{"bad duration", "s = stage('soon', users=1)\n", `main.star:3:10: stage: duration: invalid duration "soon": use forms like 90s`},
		{"negative duration", "s = stage(-1, users=1)\n", `stage: duration must be a duration such as "1m30s" or a number of seconds >= 0, got -1`},
		{"negative duration string", "s = stage('-1m', users=1)\n", `stage: duration: invalid duration "-1m": must not be negative`},
		{"zero duration", "s = stage(0, users=1)\n", "main.star:3:10: stage: duration must be > 0, got 0"},
		{"duration of a wrong type", "s = stage([1], users=1)\n", `stage: duration must be a duration such as "1m30s" or a number of seconds >= 0, got [1]`},
		{"negative users", "s = stage('1s', users=-5)\n", "main.star:3:10: stage: users must be an int >= 0, got -5"},
		{"float users", "s = stage('1s', users=1.5)\n", "stage: users must be an int >= 0, got 1.5"},
		{"negative rate", "s = stage('1s', rate=-1)\n", "stage: rate must be a number of arrivals per second >= 0, got -1"},
		{"infinite rate", "s = stage('1s', rate=float('inf'))\n", "stage: rate must be a number of arrivals per second >= 0, got +inf"},
		{"no users nor rate", "s = stage('1s')\n", "main.star:3:10: stage: give users= (closed model) or rate= (open model)"},
		{"stage unknown kwarg", "s = stage('1s', target=5)\n", `stage: unexpected keyword argument "target"`},
		{"stages and shape", "stages = [stage('1s', users=1)]\ndef shape(t):\n    return 1\n",
			"main.star:4:1: the script sets both stages and shape(t): keep one of them"},
		{"shape not a function", "shape = 5\n", "main.star:3:1: shape must be a function def shape(t), got int"},
		{"shape a builtin", "shape = print\n", "main.star:3:1: shape must be a function def shape(t), got builtin_function_or_method"},
		{"shape without t", "def shape():\n    return 1\n", "main.star:3:1: shape must take the seconds since the test started, and optionally its context: def shape(t) or def shape(t, s)"},
		{"shape with three", "def shape(t, s, x):\n    return 1\n", "def shape(t) or def shape(t, s)"},
		{"shape with a keyword-only", "def shape(t, *, k):\n    return 1\n", "def shape(t) or def shape(t, s)"},
		{"thresholds a string", "thresholds = 'p95<300ms'\n", `main.star:3:1: thresholds must be a list of expressions ("p95<300ms") or threshold(...), got string`},
		{"thresholds element", "thresholds = ['p95<1s', 3]\n", `main.star:3:1: thresholds[1] must be an expression ("p95<300ms") or threshold(...), got int`},
		{"thresholds empty expression", "thresholds = [' ']\n", "main.star:3:1: thresholds[0] is an empty expression"},
		{"threshold empty", "x = threshold('')\n", `main.star:3:14: threshold: expr must not be empty, e.g. "p95<300ms"`},
		{"threshold not a string", "x = threshold(1)\n", `threshold: for parameter expr: got int, want string`},
		{"threshold abort not a bool", "x = threshold('p95<1s', abort_on_fail='yes')\n", `threshold: for parameter "abort_on_fail": got string, want bool`},
		{"loaded stages", "load('lib.star', 'stages')\n", `main.star:3:1: a loaded "stages" is local to this file: load it under another name and assign it, e.g. load("lib.star", lib_stages="stages") then stages = lib_stages`},
		{"loaded shape", "load('lib.star', 'shape')\n", `main.star:3:1: a loaded "shape" is local to this file`},
		{"loaded thresholds", "load('lib.star', 'thresholds')\n", `main.star:3:1: a loaded "thresholds" is local to this file`},
		{"negative rate option", "options = {'rate': -1}\n", `main.star:3:1: options["rate"]: want a number >= 0, got -1`},
		{"rate option of a wrong type", "options = {'rate': '100/s'}\n", `options["rate"]: want a number >= 0, got "100/s"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			le := loadErr(t, oneUser+tc.src, "lib.star", lib)
			contains(t, le.Error(), tc.want)
			if strings.HasPrefix(tc.want, "main.star:") && !strings.HasPrefix(le.Error(), tc.want) {
				t.Errorf("error %q does not start with %q", le.Error(), tc.want)
			}
		})
	}
}

func TestBadStagesWrapsTheScenarioError(t *testing.T) {
	t.Parallel()
	_, err := loadSrc(t, oneUser+"stages = [stage('1s', rate=1), stage('1s', users=2)]\n")
	if !errors.Is(err, scenario.ErrBadStages) {
		t.Errorf("got %v, want it to wrap scenario.ErrBadStages", err)
	}
}

func TestRateOption(t *testing.T) {
	t.Parallel()
	tests := []struct{ src, want string }{
		{"100", "100"},
		{"0", "0"},
		{"12.5", "12.5"},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			t.Parallel()
			sc := mustLoad(t, oneUser+"options = {'rate': "+tc.src+"}\n")
			if got := sc.Options["rate"]; got != tc.want {
				t.Errorf("rate: got %q, want %q", got, tc.want)
			}
		})
	}
}
