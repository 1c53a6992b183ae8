package payloads

import (
	"bytes"
	"strings"
)

// OpenMetrics renders a text 0.0.4 body of this package as OpenMetrics 1.0,
// as prometheus_client prints the same registry when asked for OpenMetrics
// (which SGLang answers to the receiver's Accept header): a counter
// family is named without `_total` in `# HELP`/`# TYPE` (its samples keep
// it), `untyped` becomes `unknown`, comments other than HELP and TYPE
// go, and the body ends in `# EOF`. The
// payloads carry no timestamps and no `_created` samples, so nothing else
// changes.
func OpenMetrics(text []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(text) + 8)
	for line := range bytes.Lines(text) {
		s := string(line)
		if strings.HasPrefix(s, "#") && !strings.HasPrefix(s, "# HELP ") && !strings.HasPrefix(s, "# TYPE ") {
			continue // OpenMetrics has no free comments (the worker capture's first line is one)
		}
		if strings.HasPrefix(s, "# HELP ") || strings.HasPrefix(s, "# TYPE ") {
			f := strings.SplitN(s, " ", 4)
			if len(f) == 4 {
				typ := strings.TrimSpace(f[3])
				if f[1] == "TYPE" && typ == "counter" || f[1] == "HELP" && counterFamily(text, f[2]) {
					f[2] = strings.TrimSuffix(f[2], "_total")
				}
				if f[1] == "TYPE" && typ == "untyped" {
					f[3] = "unknown\n"
				}
				s = strings.Join(f, " ")
			}
		}
		out.WriteString(s)
	}
	out.WriteString("# EOF\n")
	return out.Bytes()
}

// counterFamily reports whether the body types name as a counter.
func counterFamily(text []byte, name string) bool {
	return bytes.Contains(text, []byte("# TYPE "+name+" counter\n"))
}
