package stats

import "sort"

// EndpointHistogram is one row's whole-test latency histogram in its
// compact plain-data form: what a stored run keeps so that its
// percentiles can be recomputed exactly later.
type EndpointHistogram struct {
	Method string        `json:"method"`
	Name   string        `json:"name"` // TotalName (method "") for the aggregated row
	Data   HistogramData `json:"data"`
}

// Histograms returns the whole-test histogram of every row, the
// aggregated row last, each compacted; they share no memory with a.
func (a *Aggregate) Histograms() []EndpointHistogram {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.flush()
	out := make([]EndpointHistogram, 0, len(a.endpoints)+1)
	for k, e := range a.endpoints {
		out = append(out, EndpointHistogram{Method: k.Method, Name: k.Name, Data: e.Hist.Data().Compact()})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Method < out[j].Method
	})
	return append(out, EndpointHistogram{Name: TotalName, Data: a.total.Hist.Data().Compact()})
}

// HistogramFromData rebuilds a Histogram from Data, validating it: the
// result records the same samples as the histogram Data was taken from.
func HistogramFromData(d HistogramData) (*Histogram, error) {
	v, err := d.Validate()
	if err != nil {
		return nil, err
	}
	h := &Histogram{}
	h.MergeValid(&v)
	return h, nil
}
