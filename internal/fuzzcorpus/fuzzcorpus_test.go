package fuzzcorpus

import (
	"bytes"
	"testing"
)

func TestExpand(t *testing.T) {
	got := string(Expand([]byte{'a', 0x80, 'b', 0x80 + 1, 0x80 + byte(len(Dictionary))}))
	want := "a" + Dictionary[0] + "b" + Dictionary[1] + Dictionary[0]
	if got != want {
		t.Fatalf("Expand = %q, want %q", got, want)
	}
}

func TestPieces(t *testing.T) {
	body := []byte("# HELP a x\n# TYPE a gauge\na 1\na{b=\"c\"} 2\na{b=\"d\"} 3\n# TYPE b counter\nb_total 1\nno_newline 2")
	got := pieces(body, 3)
	want := []string{"# HELP a x\n# TYPE a gauge\na 1\n", "# TYPE b counter\nb_total 1\nno_newline 2"}
	if len(got) != len(want) {
		t.Fatalf("pieces = %q", got)
	}
	for i := range want {
		if string(got[i]) != want[i] {
			t.Errorf("piece %d = %q, want %q", i, got[i], want[i])
		}
	}
}

// TestSeeds: the golden bodies give many small, distinct, sorted seeds, and
// every piece of an OpenMetrics body ends with # EOF.
func TestSeeds(t *testing.T) {
	seeds := Seeds("../..", 6)
	if len(seeds) < 50 {
		t.Fatalf("only %d seeds from the golden bodies", len(seeds))
	}
	eof := 0
	for i, s := range seeds {
		if n := bytes.Count(s, []byte("\n")); n > 7 {
			t.Errorf("seed %d has %d lines: %q", i, n, s)
		}
		if i > 0 && bytes.Compare(seeds[i-1], s) >= 0 {
			t.Fatalf("seeds %d and %d are not sorted and distinct", i-1, i)
		}
		if bytes.HasSuffix(s, []byte("# EOF\n")) {
			eof++
		}
	}
	if eof == 0 {
		t.Error("no OpenMetrics seed ends with # EOF")
	}
}
