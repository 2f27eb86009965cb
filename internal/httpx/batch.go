package httpx

import (
	"context"
	"sync"
)

// BatchConnsPerHost bounds the HTTP/1.1 connections a batch opens to one
// host at once, as browsers do; the requests beyond wait for one of them.
// Over HTTP/2 a batch's requests to one origin are streams of the
// client's one connection, as many at once as the server allows.
const BatchConnsPerHost = 6

// DoBatch sends reqs at once, as a page loads its assets, and returns
// their responses in the same order, each as Do would return it (a
// request waiting for a connection slot starts its clock when it gets
// one). The client keeps the HTTP/1.1 connections a batch opened to a
// host, up to BatchConnsPerHost, for its next batch. Stopping ctx drains
// every request in flight as for Do.
func (c *Client) DoBatch(ctx context.Context, reqs []*Request) []*Response {
	out := make([]*Response, len(reqs))
	slots := make(map[string]chan struct{})
	perHost := make(map[string]int)
	sem := make([]chan struct{}, len(reqs))
	for i, r := range reqs {
		key, h1 := c.batchKey(r)
		if !h1 {
			continue
		}
		perHost[key]++
		if slots[key] == nil {
			slots[key] = make(chan struct{}, BatchConnsPerHost)
		}
		sem[i] = slots[key]
	}
	most := 0
	for _, n := range perHost {
		most = max(most, min(n, BatchConnsPerHost))
	}
	c.mu.Lock()
	c.keepIdle = max(c.keepIdle, most)
	c.mu.Unlock()

	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Go(func() {
			if s := sem[i]; s != nil {
				select {
				case s <- struct{}{}:
					defer func() { <-s }()
				case <-ctx.Done(): // Do fails it at once, as stopped
				}
			}
			out[i] = c.Do(ctx, r)
		})
	}
	wg.Wait()
	return out
}

// batchKey is the connection key of r, and whether r goes over
// HTTP/1.1 (as far as the client knows before sending it); a request
// whose URL does not resolve is left to Do to fail.
func (c *Client) batchKey(r *Request) (key string, h1 bool) {
	if r == nil {
		return "", false
	}
	t, err := c.f.targets.resolve(c.BaseURL(), r.URL)
	if err != nil {
		return "", false
	}
	key = connKey(t, r.Insecure)
	mode := r.HTTP2
	if mode == HTTP2Default {
		mode = c.f.opts.HTTP2
	}
	if mode <= HTTP2Off {
		return key, true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return key, c.h1only[key] && mode != HTTP2Strict
}
