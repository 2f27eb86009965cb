package runstore

import "context"

// Recorder is what the end-of-test path needs: a run begun, then
// checkpointed and finished through its Recording.
type Recorder interface {
	Begin(ctx context.Context, info Info) (*Recording, error)
}

// Reader is what shows runs (horde runs list|show|compare, the web UI):
// listing, resolving a reference, opening a run with its blobs.
type Reader interface {
	List(ctx context.Context, f Filter) ([]Run, error)
	Resolve(ctx context.Context, ref, script string) (Run, error)
	Get(ctx context.Context, id string) (Record, error)
}

var (
	_ Recorder = (*Store)(nil)
	_ Reader   = (*Store)(nil)
)
