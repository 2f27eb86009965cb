package stats

// ErrorKey groups failures: the same method, name and error text.
type ErrorKey struct {
	Key
	Error string
}

// ExceptionGroup counts script errors with one message and keeps the first
// traceback seen.
type ExceptionGroup struct {
	Count     int64
	Traceback string
}

// Delta is what a worker recorded during one interval: the unit shipped to
// the master and merged there. It is plain data and shares no memory with
// the Collector that cut it or with any Delta merged into it.
type Delta struct {
	Endpoints  map[Key]*Entry
	Errors     map[ErrorKey]int64
	Exceptions map[string]ExceptionGroup // by message
	// Dropped counts open-model arrivals that found no free user.
	Dropped int64
}

// NewDelta returns an empty Delta with its maps allocated.
func NewDelta() *Delta {
	return &Delta{
		Endpoints:  make(map[Key]*Entry),
		Errors:     make(map[ErrorKey]int64),
		Exceptions: make(map[string]ExceptionGroup),
	}
}

func (d *Delta) init() {
	if d.Endpoints == nil {
		d.Endpoints = make(map[Key]*Entry)
	}
	if d.Errors == nil {
		d.Errors = make(map[ErrorKey]int64)
	}
	if d.Exceptions == nil {
		d.Exceptions = make(map[string]ExceptionGroup)
	}
}

// Merge adds everything in o to d, exactly, copying what it keeps so that
// d and o share no memory afterwards. For exceptions d keeps its own
// traceback when it already has the message.
func (d *Delta) Merge(o *Delta) {
	if o == nil {
		return
	}
	d.init()
	for k, e := range o.Endpoints {
		d.mergeEntry(k, e)
	}
	for k, n := range o.Errors {
		d.Errors[k] += n
	}
	for msg, g := range o.Exceptions {
		d.mergeException(msg, g)
	}
	d.Dropped += o.Dropped
}

func (d *Delta) mergeEntry(k Key, e *Entry) {
	if de := d.Endpoints[k]; de != nil {
		de.Merge(e)
		return
	}
	d.Endpoints[k] = e.Clone()
}

func (d *Delta) mergeException(msg string, g ExceptionGroup) {
	cur, ok := d.Exceptions[msg]
	if !ok {
		d.Exceptions[msg] = g
		return
	}
	cur.Count += g.Count
	d.Exceptions[msg] = cur
}

// Requests returns the number of requests and failures in d.
func (d *Delta) Requests() (requests, failures int64) {
	for _, e := range d.Endpoints {
		requests += e.Requests
		failures += e.Failures
	}
	return requests, failures
}
