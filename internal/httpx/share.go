package httpx

import "crypto/tls"

// Options returns the options of the factory that made c, defaults
// applied: other protocols' clients of the same user (WebSocket, gRPC)
// take their timeouts and user agent from them.
func (c *Client) Options() Options { return c.f.opts }

// TLSConfig returns the TLS settings of c's factory — the extra CAs it
// trusts, whether it verifies — for other protocols' clients of the same
// user. It is shared: clone it before changing it.
func (c *Client) TLSConfig() *tls.Config { return c.f.tls }
