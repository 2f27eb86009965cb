package web

import (
	"errors"
	"io"
	"net/http"

	"github.com/horde-load/horde/internal/master"
)

// This file holds the /api/v1/ routes that change the test.

// stateReply is the body of a successful POST /api/v1/test, /stop and
// /reset: the state of the test right after the change.
type stateReply struct {
	State string `json:"state"`
}

// apiTest starts a test or edits the running one.
func (s *Server) apiTest(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		s.writeError(w, http.StatusBadRequest, "reading the body: "+err.Error())
		return
	}
	in, err := decodeTestJSON(body)
	if err == nil {
		err = s.start(in, apiNames)
	}
	if err != nil {
		s.writeError(w, startErrorCode(err), err.Error())
		return
	}
	s.writeJSON(w, http.StatusOK, stateReply{State: s.ctl.Status().State})
}

// start turns the input into parameters against the current status and
// hands them to the Controller.
func (s *Server) start(in testInput, names inputNames) error {
	p, err := in.params(s.ctl.Status(), s.now(), names)
	if err != nil {
		return err
	}
	return s.ctl.Start(p)
}

// startErrorCode is 400 for what the client got wrong, 500 for the rest.
func startErrorCode(err error) int {
	if errors.Is(err, errInput) || errors.Is(err, master.ErrBadParams) {
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// apiStop stops the test; it goes on stopping in the background.
func (s *Server) apiStop(w http.ResponseWriter, _ *http.Request) {
	s.ctl.Stop()
	s.writeJSON(w, http.StatusOK, stateReply{State: s.ctl.Status().State})
}

// apiReset resets the statistics and the history.
func (s *Server) apiReset(w http.ResponseWriter, _ *http.Request) {
	s.ctl.ResetStats()
	s.writeJSON(w, http.StatusOK, stateReply{State: s.ctl.Status().State})
}
