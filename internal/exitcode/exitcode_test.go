package exitcode

import (
	"errors"
	"fmt"
	"testing"
)

func TestCode(t *testing.T) {
	t.Parallel()
	base := errors.New("boom")
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, OK},
		{"plain", base, Failed},
		{"bad input", With(BadInput, base), BadInput},
		{"wrapped", fmt.Errorf("loading: %w", Newf(CannotRun, "no workers")), CannotRun},
		{"with nil", With(BadInput, nil), OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Code(tt.err); got != tt.want {
				t.Fatalf("Code(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
	if !errors.Is(With(BadInput, base), base) {
		t.Fatal("With must keep the chain for errors.Is")
	}
}
