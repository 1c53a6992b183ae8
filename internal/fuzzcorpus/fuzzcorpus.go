// Package fuzzcorpus gives the fuzz targets of promtext and convert small
// seeds and a dictionary of the exposition formats' tokens.
//
// Go's fuzzing engine has no dictionaries, and it minimises every new
// interesting input before it goes on: seeded with whole 60 KB bodies, it
// spent most of its budget minimising, at 0 execs/sec. So the seeds here are
// a few lines each (one family's header and first samples), and a target
// that takes a `dict` flag passes its input through Expand, in which every
// byte from 0x80 up stands for a whole token (`# TYPE `, `le="`, `_bucket`,
// `+Inf`, ...): one mutated byte then inserts a token the parser branches on.
// Only tests import this package.
package fuzzcorpus

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
)

// Dictionary holds the tokens of the text and OpenMetrics formats that a
// parser's branches depend on.
var Dictionary = []string{
	"# HELP ", "# TYPE ", "# UNIT ", "# EOF\n", "# EOF", "#",
	"{", "}", "=\"", "\",", "\"", ",", " ", "\t", "\n", "\\\\", "\\\"", "\\n", "\\",
	"le=\"", "quantile=\"", "__name__=\"", "{\"", "\"}",
	"_bucket", "_count", "_sum", "_total", "_created", "_gcount", "_gsum", "_info",
	" counter", " gauge", " histogram", " gaugehistogram", " summary", " untyped",
	" unknown", " info", " stateset",
	"NaN", "+Inf", "-Inf", "Inf", "+", "-", "e", ".", "0", "1", "1.0", "1e3", "0x1",
	" 1700000000", " 1700000000.5", " 1700000000000", " # {", "} 1 ", " # ",
	"sglang:", "sglang_", "dynamo_", "dynamo_frontend_", "vllm:",
	"sglang:x", "sglang:h", "dynamo_component_requests",
	"\xef\xbb\xbf", "\xe2\x82\xac", "\r",
}

// Expand replaces each byte of b from 0x80 up by a dictionary token and
// keeps the other bytes as they are.
func Expand(b []byte) []byte {
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		if c < 0x80 {
			out = append(out, c)
			continue
		}
		out = append(out, Dictionary[int(c-0x80)%len(Dictionary)]...)
	}
	return out
}

// Seeds cuts the bodies of the golden tests (testdata/golden/*/input under
// root) into distinct pieces of at most maxLines lines, each starting where a
// family's HELP/TYPE header starts. An OpenMetrics body's pieces end with
// "# EOF" so that they are whole bodies. The result is sorted, so that a
// target's seed corpus is the same on every run.
func Seeds(root string, maxLines int) [][]byte {
	paths, _ := filepath.Glob(filepath.Join(root, "testdata", "golden", "*", "input"))
	seen := map[string]bool{}
	var out [][]byte
	for _, path := range paths {
		body, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		om := bytes.HasSuffix(bytes.TrimRight(body, "\n"), []byte("# EOF"))
		for _, piece := range pieces(body, maxLines) {
			if om && !bytes.HasSuffix(piece, []byte("# EOF\n")) {
				piece = append(piece, "# EOF\n"...)
			}
			if !seen[string(piece)] {
				seen[string(piece)] = true
				out = append(out, piece)
			}
		}
	}
	slices.SortFunc(out, bytes.Compare)
	return out
}

// pieces splits body at each comment line that follows a sample line, and
// keeps the first maxLines lines of each part.
func pieces(body []byte, maxLines int) [][]byte {
	var out [][]byte
	var cur []byte
	lines, prevSample := 0, false
	flush := func() {
		if len(cur) > 0 {
			out = append(out, cur)
		}
		cur, lines = nil, 0
	}
	for len(body) > 0 {
		i := bytes.IndexByte(body, '\n')
		var line []byte
		if i < 0 {
			line, body = body, nil
		} else {
			line, body = body[:i+1], body[i+1:]
		}
		comment := bytes.HasPrefix(line, []byte("#"))
		if comment && prevSample {
			flush()
		}
		prevSample = !comment
		if lines < maxLines {
			cur = append(cur, line...)
			lines++
		}
	}
	flush()
	return out
}
