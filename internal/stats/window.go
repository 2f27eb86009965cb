package stats

import (
	"math"
	"time"
)

// rateSlot holds the requests and failures added during one wall-clock
// second.
type rateSlot struct {
	sec        int64
	req, fails int64
}

// rateWindow is a ring of per-second counts covering the sliding window
// plus the still-filling current second.
type rateWindow []rateSlot

func newRateWindow(seconds int) rateWindow {
	w := make(rateWindow, seconds+1)
	for i := range w {
		w[i].sec = math.MinInt64
	}
	return w
}

// slot returns the ring position for second sec, clearing a slot that held
// an older second. ok is false when the slot already holds a newer second:
// data that late has left the window.
func (w rateWindow) slot(sec int64) (i int, fresh, ok bool) {
	n := int64(len(w))
	i = int(((sec % n) + n) % n)
	switch {
	case w[i].sec == sec:
		return i, false, true
	case w[i].sec > sec:
		return i, false, false
	}
	w[i] = rateSlot{sec: sec}
	return i, true, true
}

func (w rateWindow) add(sec, req, fails int64) {
	if i, _, ok := w.slot(sec); ok {
		w[i].req += req
		w[i].fails += fails
	}
}

// span returns the window [from, to) whose full seconds count for rates
// at now: the last len(w)-1 whole seconds before the current one, cut at
// the test start; to is the start of the current second.
func windowSpan(seconds int, now, start time.Time) (fromSec, toSec int64, dur float64) {
	toSec = now.Unix()
	fromSec = toSec - int64(seconds)
	from := time.Unix(fromSec, 0)
	if start.After(from) {
		from = start
	}
	dur = time.Unix(toSec, 0).Sub(from).Seconds()
	return fromSec, toSec, dur
}

// rates returns requests and failures per second over the window at now,
// excluding the current second; 0 before the first full second.
func (w rateWindow) rates(now, start time.Time) (rps, fps float64) {
	fromSec, toSec, dur := windowSpan(len(w)-1, now, start)
	if dur <= 0 {
		return 0, 0
	}
	var req, fails int64
	for _, s := range w {
		if s.sec >= fromSec && s.sec < toSec {
			req += s.req
			fails += s.fails
		}
	}
	return float64(req) / dur, float64(fails) / dur
}
