package target

import "net/http"

// Helpers the tests use that the program does not.

// Handler returns the app's handler, counting included.
func (s *Server) Handler() http.Handler { return s.handler }

// InFlight is the number of requests being handled right now.
func (s *Server) InFlight() int64 { return s.inFlight.Load() }
