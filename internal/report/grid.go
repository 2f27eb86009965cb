package report

import "strings"

// grid lays out a text table with computed column widths. It is shared by
// the final table and the live view.
type grid struct {
	cols []column
	rows []gridRow
}

type column struct {
	header string
	right  bool // right-aligned (numbers)
	// max caps the column width (cells past it end in …); 0 means no cap.
	max int
	// flex marks the one column that shrinks when the table must fit a width.
	flex bool
}

// gridRow is cells, a separator (sep) or a free text line (text).
type gridRow struct {
	cells []string
	sep   bool
	text  string
}

// gap separates columns; tightGap when the table must fit a width.
const (
	gap      = "  "
	tightGap = " "
)

// minFlexWidth is how narrow the flex column may get when fitting a width
// (wide enough for "Aggregated").
const minFlexWidth = 10

func (g *grid) add(cells ...string) { g.rows = append(g.rows, gridRow{cells: cells}) }
func (g *grid) sep()                { g.rows = append(g.rows, gridRow{sep: true}) }
func (g *grid) text(s string)       { g.rows = append(g.rows, gridRow{text: s}) }

// lines renders the grid. With maxWidth > 0 the flex column shrinks so that
// rows fit, and any line still too long is cut: a terminal must never wrap
// a line of the live view, or redrawing in place would go wrong.
func (g *grid) lines(maxWidth int) []string {
	widths, sepr := g.widths(maxWidth)
	out := make([]string, 0, len(g.rows)+1)
	header := make([]string, len(g.cols))
	for i, c := range g.cols {
		header[i] = c.header
	}
	out = append(out, g.renderCells(header, widths, sepr))
	for _, r := range g.rows {
		var line string
		switch {
		case r.sep:
			parts := make([]string, len(widths))
			for i, w := range widths {
				parts[i] = strings.Repeat("-", w)
			}
			line = strings.Join(parts, sepr)
		case r.cells != nil:
			line = g.renderCells(r.cells, widths, sepr)
		default:
			line = sanitize(r.text)
		}
		if maxWidth > 0 {
			line = truncate(line, maxWidth)
		}
		out = append(out, line)
	}
	if maxWidth > 0 {
		out[0] = truncate(out[0], maxWidth)
	}
	return out
}

// widths returns the column widths and the column separator to use.
func (g *grid) widths(maxWidth int) ([]int, string) {
	widths := make([]int, len(g.cols))
	for i, c := range g.cols {
		widths[i] = textWidth(c.header)
	}
	for _, r := range g.rows {
		for i, cell := range r.cells {
			if i < len(widths) {
				widths[i] = max(widths[i], textWidth(sanitize(cell)))
			}
		}
	}
	total := 0
	for i, c := range g.cols {
		if c.max > 0 {
			widths[i] = min(widths[i], max(c.max, textWidth(c.header)))
		}
		total += widths[i]
	}
	gaps := len(widths) - 1
	if maxWidth <= 0 || total+gaps*textWidth(gap) <= maxWidth {
		return widths, gap
	}
	total += gaps * textWidth(tightGap)
	for i, c := range g.cols {
		if c.flex && total > maxWidth {
			widths[i] = max(min(minFlexWidth, widths[i]), widths[i]-(total-maxWidth))
		}
	}
	return widths, tightGap
}

func (g *grid) renderCells(cells []string, widths []int, sepr string) string {
	var b strings.Builder
	for i, w := range widths {
		cell := ""
		if i < len(cells) {
			cell = truncate(sanitize(cells[i]), w)
		}
		if i > 0 {
			b.WriteString(sepr)
		}
		pad := strings.Repeat(" ", w-textWidth(cell))
		if g.cols[i].right {
			b.WriteString(pad + cell)
		} else {
			b.WriteString(cell + pad)
		}
	}
	return strings.TrimRight(b.String(), " ")
}
