package starlib

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Strftime formats t with a C/Python strftime format, in the C locale
// (English names). It supports %a %A %b %B %c %d %f %G %H %I %j %m %M %p
// %S %u %V %w %x %X %y %Y %z %Z and %%; any other directive is an error,
// where Python would depend on the platform.
func Strftime(format string, t time.Time) (string, error) {
	var b strings.Builder
	b.Grow(len(format) + 16)
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+1 == len(format) {
			return "", fmt.Errorf("format %q ends with a lone %%", format)
		}
		i++
		if err := directive(&b, format[i], t); err != nil {
			return "", fmt.Errorf("format %q: %w", format, err)
		}
	}
	return b.String(), nil
}

func directive(b *strings.Builder, d byte, t time.Time) error {
	pad := func(n, width int) {
		s := strconv.Itoa(n)
		for i := len(s); i < width; i++ {
			b.WriteByte('0')
		}
		b.WriteString(s)
	}
	switch d {
	case 'Y':
		pad(t.Year(), 4)
	case 'y':
		pad(t.Year()%100, 2)
	case 'm':
		pad(int(t.Month()), 2)
	case 'd':
		pad(t.Day(), 2)
	case 'H':
		pad(t.Hour(), 2)
	case 'I':
		pad((t.Hour()+11)%12+1, 2)
	case 'M':
		pad(t.Minute(), 2)
	case 'S':
		pad(t.Second(), 2)
	case 'f':
		pad(t.Nanosecond()/1000, 6)
	case 'j':
		pad(t.YearDay(), 3)
	case 'p':
		if t.Hour() < 12 {
			b.WriteString("AM")
		} else {
			b.WriteString("PM")
		}
	case 'a':
		b.WriteString(t.Weekday().String()[:3])
	case 'A':
		b.WriteString(t.Weekday().String())
	case 'b':
		b.WriteString(t.Month().String()[:3])
	case 'B':
		b.WriteString(t.Month().String())
	case 'w':
		pad(int(t.Weekday()), 1)
	case 'u':
		pad((int(t.Weekday())+6)%7+1, 1)
	case 'G':
		y, _ := t.ISOWeek()
		pad(y, 4)
	case 'V':
		_, w := t.ISOWeek()
		pad(w, 2)
	case 'z':
		b.WriteString(t.Format("-0700"))
	case 'Z':
		b.WriteString(t.Format("MST"))
	case 'c':
		b.WriteString(t.Format("Mon Jan _2 15:04:05 2006"))
	case 'x':
		b.WriteString(t.Format("01/02/06"))
	case 'X':
		b.WriteString(t.Format("15:04:05"))
	case '%':
		b.WriteByte('%')
	default:
		return fmt.Errorf("unsupported directive %%%c (have %%a %%A %%b %%B %%c %%d %%f %%G %%H %%I %%j %%m %%M %%p %%S %%u %%V %%w %%x %%X %%y %%Y %%z %%Z %%%%)", d)
	}
	return nil
}
