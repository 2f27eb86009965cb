package scenario

import (
	"context"
	"fmt"
	"net/url"

	"github.com/horde-load/horde/internal/httpx"
	"github.com/horde-load/horde/internal/stats"
)

// URL is the scenario of `horde run URL`: users that GET the URL
// back to back, with no wait, as wrk or hey do.
func URL(raw string) (*Scenario, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("invalid URL %q: want http://host[:port]/path", raw)
	}
	path := u.RequestURI()
	origin := u.Scheme + "://" + u.Host
	key := stats.Key{Method: "GET", Name: path}
	req := &httpx.Request{Method: "GET", URL: path, DiscardBody: true} // Do never changes it
	get := func(ctx context.Context, vu *VU) error {
		resp := vu.HTTP.Do(ctx, req)
		if resp.ErrKind == httpx.KindCanceled && ctx.Err() != nil {
			return nil // stopped mid-request: not a measurement
		}
		vu.Rec.Record(stats.Sample{Key: key, Latency: resp.Elapsed, Bytes: resp.BytesRecv, Err: resp.Failure()})
		return nil
	}
	return &Scenario{Users: []*UserClass{{
		Name: "URL", Weight: 1, Host: origin,
		Tasks: []Task{{Name: "GET " + path, Weight: 1, Fn: get}},
	}}}, nil
}
