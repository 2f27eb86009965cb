package runner

import (
	"context"
	"fmt"
	"testing"

	"github.com/horde-load/horde/internal/scenario"
)

// Tags reach inside task sets, as Locust's: a tagged task inside an
// untagged set runs under --tags (the set is kept with just it), a set's
// tags count for its tasks, and an excluded set is dropped whole.
func TestTagsInsideTaskSets(t *testing.T) {
	t.Parallel()
	fn := func(context.Context, *scenario.VU) error { return nil }
	inner := &scenario.TaskSet{Tasks: []scenario.Task{
		{Name: "a", Weight: 1, Tags: []string{"web"}, Fn: fn},
		{Name: "b", Weight: 1, Fn: fn},
	}}
	tagged := &scenario.TaskSet{Tasks: []scenario.Task{{Name: "c", Weight: 1, Fn: fn}}}
	tasks := []scenario.Task{
		{Name: "set", Weight: 1, Set: inner},
		{Name: "tagged set", Weight: 1, Tags: []string{"api"}, Set: tagged},
		{Name: "top", Weight: 1, Fn: fn},
	}
	names := func(include, exclude []string) []string {
		var out []string
		walk := func(ts []scenario.Task, prefix string, inherited []string) {
			for _, t := range ts {
				kept, ok := filterTask(t, inherited, include, exclude)
				if !ok {
					continue
				}
				if kept.Set != nil {
					for _, in := range kept.Set.Tasks {
						out = append(out, prefix+t.Name+"/"+in.Name)
					}
					continue
				}
				out = append(out, prefix+t.Name)
			}
		}
		walk(tasks, "", nil)
		return out
	}
	for _, tc := range []struct {
		include, exclude []string
		want             string
	}{
		{nil, nil, "[set/a set/b tagged set/c top]"},
		{[]string{"web"}, nil, "[set/a]"},
		{[]string{"api"}, nil, "[tagged set/c]"},
		{nil, []string{"api"}, "[set/a set/b top]"},
		{nil, []string{"web"}, "[set/b tagged set/c top]"},
	} {
		if got := fmt.Sprint(names(tc.include, tc.exclude)); got != tc.want {
			t.Errorf("--tags %v --exclude-tags %v: %s, want %s", tc.include, tc.exclude, got, tc.want)
		}
	}
	if len(inner.Tasks) != 2 {
		t.Error("filtering changed the scenario's own task set")
	}
}
