package stats

import "maps"

// EntryData is one row of a Delta as it arrives from a worker: the counts,
// and the latency histogram checked but still in its plain-data form.
type EntryData struct {
	Key
	Requests int64
	Failures int64
	SumUS    int64
	Bytes    int64
	Hist     ValidHistogram
}

// DeltaData is a Delta in the form it is received in: the master merges
// it (Aggregate.AddData) straight from the decoded message, with no
// Histogram built per row. Its histograms share the memory of the message
// they were decoded from. Reuse it with Reset: it keeps its memory.
type DeltaData struct {
	// Endpoints holds one row per (method, name); a key appears once.
	Endpoints  []EntryData
	Errors     map[ErrorKey]int64
	Exceptions map[string]ExceptionGroup // by message
	// Dropped counts open-model arrivals that found no free user.
	Dropped int64
}

// Reset empties d, keeping its memory but dropping every reference to
// the message it held.
func (d *DeltaData) Reset() {
	clear(d.Endpoints)
	d.Endpoints = d.Endpoints[:0]
	if d.Errors == nil {
		d.Errors = make(map[ErrorKey]int64)
	}
	if d.Exceptions == nil {
		d.Exceptions = make(map[string]ExceptionGroup)
	}
	clear(d.Errors)
	clear(d.Exceptions)
	d.Dropped = 0
}

// Requests returns the number of requests and failures in d.
func (d *DeltaData) Requests() (requests, failures int64) {
	for i := range d.Endpoints {
		requests += d.Endpoints[i].Requests
		failures += d.Endpoints[i].Failures
	}
	return requests, failures
}

// Delta returns d as a Delta, with every histogram rebuilt: it shares no
// memory with d. Rows with the same key are merged.
func (d *DeltaData) Delta() *Delta {
	out := &Delta{
		Endpoints:  make(map[Key]*Entry, len(d.Endpoints)),
		Errors:     maps.Clone(d.Errors),
		Exceptions: maps.Clone(d.Exceptions),
		Dropped:    d.Dropped,
	}
	out.init()
	for i := range d.Endpoints {
		r := &d.Endpoints[i]
		e := out.Endpoints[r.Key]
		if e == nil {
			e = &Entry{}
			out.Endpoints[r.Key] = e
		}
		e.mergeData(r)
	}
	return out
}

// mergeData adds the requests of row r to e, exactly.
func (e *Entry) mergeData(r *EntryData) {
	e.Requests += r.Requests
	e.Failures += r.Failures
	e.SumUS += r.SumUS
	e.Bytes += r.Bytes
	e.Hist.MergeValid(&r.Hist)
}
