package stats

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Defaults of AggregateOptions.
const (
	DefaultWindow         = 10 * time.Second
	DefaultMaxEndpoints   = 1000
	DefaultMaxErrors      = 1000
	DefaultHistoryRecent  = 1200 // 20 minutes at one point per second
	DefaultHistoryArchive = 1200
)

// Names of the rows that absorb what is over a cap.
const (
	OverflowName      = "(other)"
	OverflowError     = "(other errors)"
	OverflowException = "(other exceptions)"
	TotalName         = "Aggregated"
)

// AggregateOptions configures an Aggregate; zero fields take the defaults.
type AggregateOptions struct {
	// Window is the sliding window for current rates and the history's
	// percentiles, rounded up to whole seconds.
	Window time.Duration
	// MaxEndpoints caps distinct (method, name) rows; further names are
	// counted in one row named OverflowName with method "".
	MaxEndpoints int
	// MaxErrors caps distinct failure groups and, separately, distinct
	// exception messages; further ones are counted in an overflow group.
	MaxErrors int
	// HistoryRecent is how many of the newest history points are kept at
	// full resolution; HistoryArchive bounds the older, thinned points.
	HistoryRecent  int
	HistoryArchive int
	// EndpointHistory also keeps, at every Tick, a row per endpoint with
	// its percentiles over the sliding window (Snapshot.EndpointHistory,
	// for Locust's --csv-full-history). It is bounded like the aggregate's
	// history, with the same capacities and at the same seconds, but with
	// the defaults it holds about half a MiB per endpoint once a test
	// passes 40 minutes (52 MiB for 100 endpoints after an hour,
	// BenchmarkEndpointHistoryMemory), so it is off unless asked for.
	// Adding deltas costs the same either way.
	EndpointHistory bool
	// OnWarning, if set, receives each warning once, when it first
	// happens. It is called with the Aggregate locked: it must not call
	// back into it.
	OnWarning func(msg string)
}

func (o AggregateOptions) withDefaults() AggregateOptions {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.MaxEndpoints <= 0 {
		o.MaxEndpoints = DefaultMaxEndpoints
	}
	if o.MaxErrors <= 0 {
		o.MaxErrors = DefaultMaxErrors
	}
	if o.HistoryRecent <= 0 {
		o.HistoryRecent = DefaultHistoryRecent
	}
	if o.HistoryArchive <= 0 {
		o.HistoryArchive = DefaultHistoryArchive
	}
	return o
}

// aggEndpoint is one row on the master: cumulative counts plus the
// per-second counts of the sliding window.
type aggEndpoint struct {
	Entry
	win rateWindow
	// ticks holds copies of Hist from the last ticks, for the
	// per-endpoint history's window; nil unless EndpointHistory.
	ticks *tickRing
	// seen holds Hist's counts as they were when last added to the
	// totals (only its counts are used); buckets dlo..dhi may have grown
	// since when dirty.
	seen     Histogram
	dirty    bool
	dlo, dhi int
}

// Aggregate merges the Deltas of all workers into the statistics users
// read: cumulative rows, sliding-window rates and percentiles, failure
// groups and a bounded history. It is safe for concurrent use. Time is
// always passed in, so tests drive it with an artificial clock.
type Aggregate struct {
	mu      sync.Mutex
	opts    AggregateOptions
	winSec  int
	start   time.Time
	warned  map[string]bool
	warning []string
	gen     uint64 // counts Resets: a RowCache of an older state is stale
	aggState
}

// aggState is everything Reset clears.
type aggState struct {
	endpoints map[Key]*aggEndpoint
	named     int // endpoints other than the overflow row
	total     aggEndpoint
	totalHist []Histogram // per-second histograms, aligned with total.win
	scratch   Histogram   // for the window's percentiles
	// sum is what came in second pendingSec, summed over its rows, not
	// yet in the totals: its counts but for those of the endpoints in
	// pending, which flush adds from the endpoints' own histograms (each
	// row's histogram is read once, into its endpoint).
	sum        Entry
	pendingSec int64
	pending    []*aggEndpoint
	errors     map[ErrorKey]*ErrorRow
	namedErrs  int
	exceptions map[string]*ExceptionRow
	namedExcs  int
	hist       history[HistoryPoint]
	epHist     history[EndpointHistoryPoint] // empty unless EndpointHistory
	dropped    int64
}

// NewAggregate returns an empty Aggregate. Its start is set by Start, or
// else by the first Add or Tick.
func NewAggregate(opts AggregateOptions) *Aggregate {
	opts = opts.withDefaults()
	winSec := int((opts.Window + time.Second - 1) / time.Second)
	a := &Aggregate{opts: opts, winSec: winSec, warned: make(map[string]bool)}
	a.aggState = a.newState()
	return a
}

func (a *Aggregate) newState() aggState {
	return aggState{
		endpoints:  make(map[Key]*aggEndpoint),
		total:      aggEndpoint{win: newRateWindow(a.winSec)},
		totalHist:  make([]Histogram, a.winSec+1),
		errors:     make(map[ErrorKey]*ErrorRow),
		exceptions: make(map[string]*ExceptionRow),
		hist:       newHistory[HistoryPoint](a.opts.HistoryRecent, a.opts.HistoryArchive),
		epHist:     newHistory[EndpointHistoryPoint](a.opts.HistoryRecent, a.opts.HistoryArchive),
	}
}

// Start sets the start of the test, from which whole-test RPS and the
// window's first second are computed.
func (a *Aggregate) Start(t time.Time) {
	a.mu.Lock()
	a.start = t
	a.mu.Unlock()
}

// Reset clears all counts, errors and history and releases their memory;
// the test's start becomes now. Warnings already given are kept.
func (a *Aggregate) Reset(now time.Time) {
	a.mu.Lock()
	a.aggState = a.newState()
	a.gen++
	a.start = now
	a.mu.Unlock()
}

// Warnings returns every warning given so far, oldest first.
func (a *Aggregate) Warnings() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.warning)
}

func (a *Aggregate) warnOnce(kind, msg string) {
	if a.warned[kind] {
		return
	}
	a.warned[kind] = true
	a.warning = append(a.warning, msg)
	if a.opts.OnWarning != nil {
		a.opts.OnWarning(msg)
	}
}

func (a *Aggregate) ensureStart(t time.Time) {
	if a.start.IsZero() {
		a.start = t
	}
}

// AddData adds a delta in received form: each row's histogram is merged
// where it lies, into its row; what the rows of one second add to the
// totals is summed from the rows' growth when the second ends or the
// statistics are read, and goes into the totals and the window once.
// It keeps no reference to d.
func (a *Aggregate) AddData(d *DeltaData, at time.Time) { a.AddStream(d, at, nil) }

// AddStream is AddData for a delta of a stream whose rows c remembers
// (nil: none): a worker names the same rows in the same order in every
// report, so row i of a report goes where row i of the last one went,
// when it has the same name, without a lookup by name.
func (a *Aggregate) AddStream(d *DeltaData, at time.Time, c *RowCache) {
	if d == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.add(d, at, c)
}

// RowCache remembers where the rows of one stream's last report went.
// The zero value is ready; it holds no more than maxCachedRows rows.
type RowCache struct {
	a    *Aggregate
	gen  uint64
	keys []Key
	eps  []*aggEndpoint
}

const maxCachedRows = 1024

// cachedEndpoint returns the row for k, row i of a stream's report.
func (a *Aggregate) cachedEndpoint(c *RowCache, i int, k Key) *aggEndpoint {
	if c == nil {
		return a.endpoint(k)
	}
	if c.a != a || c.gen != a.gen {
		*c = RowCache{a: a, gen: a.gen, keys: c.keys[:0], eps: c.eps[:0]}
	}
	if i < len(c.keys) && c.keys[i] == k {
		return c.eps[i]
	}
	// A key keeps its row (or the overflow row) until a Reset: rows are
	// never removed, and a name in the overflow row stays there.
	ep := a.endpoint(k)
	switch {
	case i < len(c.keys):
		c.keys[i], c.eps[i] = k, ep
	case i == len(c.keys) && i < maxCachedRows:
		c.keys, c.eps = append(c.keys, k), append(c.eps, ep)
	}
	return ep
}

func (a *Aggregate) add(d *DeltaData, at time.Time, c *RowCache) {
	a.ensureStart(at)
	sec := at.Unix()
	if sec != a.pendingSec {
		a.flush()
		a.pendingSec = sec
	}
	if a.mayOverflow(d.Endpoints) {
		// Which names get the last free rows must not depend on the order
		// the rows came in.
		order := make([]*EntryData, len(d.Endpoints))
		for i := range d.Endpoints {
			order[i] = &d.Endpoints[i]
		}
		slices.SortFunc(order, func(x, y *EntryData) int { return compareKeys(x.Key, y.Key) })
		for _, r := range order {
			if r.Requests != 0 {
				a.addRow(r, a.endpoint(r.Key), sec)
			}
		}
	} else {
		for i := range d.Endpoints {
			if r := &d.Endpoints[i]; r.Requests != 0 {
				a.addRow(r, a.cachedEndpoint(c, i, r.Key), sec)
			}
		}
	}
	a.addErrors(d.Errors, at)
	a.addExceptions(d.Exceptions)
	a.dropped += d.Dropped
}

// addRow merges one row into its endpoint ep, and all but its
// histogram's counts into the second's sum: ep is marked for flush.
func (a *Aggregate) addRow(r *EntryData, ep *aggEndpoint, sec int64) {
	ep.mergeData(r)
	ep.win.add(sec, r.Requests, r.Failures)
	a.sum.Requests += r.Requests
	a.sum.Failures += r.Failures
	a.sum.SumUS += r.SumUS
	a.sum.Bytes += r.Bytes
	v := &r.Hist
	if v.total == 0 {
		return
	}
	a.sum.Hist.addExtremes(v.d.Min, v.d.Max, v.total)
	switch {
	case !ep.dirty:
		ep.dirty, ep.dlo, ep.dhi = true, v.lo, v.hi
		a.pending = append(a.pending, ep)
	default:
		ep.dlo, ep.dhi = min(ep.dlo, v.lo), max(ep.dhi, v.hi)
	}
}

// flush completes the second's sum with the counts its rows added to
// their endpoints and moves it into the totals and the window. Every
// reader of the totals calls it first.
func (a *Aggregate) flush() {
	for _, ep := range a.pending {
		a.sum.Hist.addGrowth(&ep.Hist, &ep.seen, ep.dlo, ep.dhi)
		ep.dirty = false
	}
	clear(a.pending)
	a.pending = a.pending[:0]
	a.addSum(a.pendingSec)
}

// addSum moves the second's sum into the totals and the window, and
// empties it.
func (a *Aggregate) addSum(sec int64) {
	if a.sum.Requests == 0 {
		return
	}
	a.total.Merge(&a.sum)
	if wi, fresh, inWin := a.total.win.slot(sec); inWin {
		if fresh {
			a.totalHist[wi].Reset()
		}
		a.total.win[wi].req += a.sum.Requests
		a.total.win[wi].fails += a.sum.Failures
		a.totalHist[wi].Merge(&a.sum.Hist)
	}
	a.sum.reset()
}

// mayOverflow reports whether rows bring more new names than rows are left.
func (a *Aggregate) mayOverflow(rows []EntryData) bool {
	if a.named+len(rows) <= a.opts.MaxEndpoints {
		return false
	}
	newNames := 0
	for i := range rows {
		if a.endpoints[rows[i].Key] == nil {
			newNames++
		}
	}
	return a.named+newNames > a.opts.MaxEndpoints
}

// endpoint returns the row for k, creating it, or the overflow row when
// the cap on names is reached.
func (a *Aggregate) endpoint(k Key) *aggEndpoint {
	if ep := a.endpoints[k]; ep != nil {
		return ep
	}
	if a.named >= a.opts.MaxEndpoints {
		a.warnOnce("endpoints", fmt.Sprintf(
			"more than %d distinct request names: further names are counted in the %q row; "+
				"group URLs with name= in the script", a.opts.MaxEndpoints, OverflowName))
		k = Key{Name: OverflowName}
		if ep := a.endpoints[k]; ep != nil {
			return ep
		}
	} else {
		a.named++
	}
	ep := &aggEndpoint{win: newRateWindow(a.winSec)}
	a.endpoints[k] = ep
	return ep
}

func (a *Aggregate) addErrors(errs map[ErrorKey]int64, at time.Time) {
	for k, n := range errs {
		row := a.errors[k]
		if row == nil && a.namedErrs >= a.opts.MaxErrors {
			a.warnOnce("errors", fmt.Sprintf(
				"more than %d distinct failures: further ones are counted as %q", a.opts.MaxErrors, OverflowError))
			k = ErrorKey{Key: Key{Name: OverflowName}, Error: OverflowError}
			row = a.errors[k]
		} else if row == nil {
			a.namedErrs++
		}
		if row == nil {
			row = &ErrorRow{Method: k.Method, Name: k.Name, Error: k.Error, FirstSeen: at, LastSeen: at}
			a.errors[k] = row
		}
		row.Count += n
		if at.Before(row.FirstSeen) {
			row.FirstSeen = at
		}
		if at.After(row.LastSeen) {
			row.LastSeen = at
		}
	}
}

func (a *Aggregate) addExceptions(excs map[string]ExceptionGroup) {
	for msg, g := range excs {
		row := a.exceptions[msg]
		if row == nil && a.namedExcs >= a.opts.MaxErrors {
			a.warnOnce("exceptions", fmt.Sprintf(
				"more than %d distinct script errors: further ones are counted as %q", a.opts.MaxErrors, OverflowException))
			msg, g.Traceback = OverflowException, ""
			row = a.exceptions[msg]
		} else if row == nil {
			a.namedExcs++
		}
		if row == nil {
			row = &ExceptionRow{Message: msg, Traceback: g.Traceback}
			a.exceptions[msg] = row
		}
		row.Count += g.Count
	}
}

func compareKeys(x, y Key) int {
	return cmp.Or(cmp.Compare(x.Name, y.Name), cmp.Compare(x.Method, y.Method))
}
