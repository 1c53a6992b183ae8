package convert

import (
	"fmt"
	"testing"
)

// The line cache on its own: what find answers after inserts, drops,
// compaction and a reset, and that hash chains survive removal from any
// position.

func TestLineCacheFindsByPositionAndByHash(t *testing.T) {
	c := newLineCache()
	a, b := &series{}, &series{}
	c.startBody()
	if idx, _ := c.find([]byte("x{a=\"1\"}")); idx != noLine {
		t.Fatalf("empty cache found %d", idx)
	}
	ia := c.insert([]byte("x{a=\"1\"}"), 0, lineEntry{sr: a, role: roleValue})
	c.use(ia)
	ib := c.insert([]byte("x{a=\"2\"}"), 0, lineEntry{sr: b, role: roleValue})
	c.use(ib)
	c.endBody()

	// Same order: found at its position, without a hash.
	c.startBody()
	idx, hash := c.find([]byte("x{a=\"1\"}"))
	if idx != ia || hash != 0 {
		t.Fatalf("positional find: got %d (hash %x), want %d without a hash", idx, hash, ia)
	}
	c.use(idx)
	// Another order: found through the index, with the hash computed.
	c.startBody()
	if idx, hash := c.find([]byte("x{a=\"2\"}")); idx != ib || hash == 0 {
		t.Fatalf("indexed find: got %d (hash %x), want %d with a hash", idx, hash, ib)
	}
	if got := c.entry(ib).sr; got != b {
		t.Fatalf("entry %d resolves to %p, want %p", ib, got, b)
	}
	if idx, hash := c.find([]byte("x{a=\"3\"}")); idx != noLine || hash == 0 {
		t.Fatalf("unknown text: got %d (hash %x), want noLine with its hash", idx, hash)
	}
}

func TestLineCacheNewerEntryForSameTextWins(t *testing.T) {
	c := newLineCache()
	g, s := &series{}, &series{}
	text := []byte("x 1")
	old := c.insert(text, 0, lineEntry{sr: g})
	c.startBody()
	idx, hash := c.find(text)
	if idx != old {
		t.Fatalf("find: %d, want %d", idx, old)
	}
	newer := c.insert(text, hash, lineEntry{sr: s})
	if idx, _ := c.find(text); idx != newer {
		t.Fatalf("after a second insert find gives %d, want the newer %d", idx, newer)
	}
	c.drop([]int32{newer})
	if idx, _ := c.find(text); idx != old {
		t.Fatalf("after dropping the newer entry find gives %d, want %d", idx, old)
	}
	c.drop([]int32{old})
	if idx, _ := c.find(text); idx != noLine {
		t.Fatalf("after dropping both find gives %d", idx)
	}
	if sz := c.size(); sz.live != 0 || sz.hashes != 0 || sz.slots != 2 {
		t.Fatalf("size after dropping all: %+v", sz)
	}
}

// TestLineCacheChainRemoval drops entries from the head, middle and tail of
// one hash chain. Equal hashes are forced by giving insert the same hash
// for different texts, as a collision would.
func TestLineCacheChainRemoval(t *testing.T) {
	for drop := range 3 {
		c := newLineCache()
		var idxs [3]int32
		for i := range idxs {
			idxs[i] = c.insert(fmt.Appendf(nil, "t%d", i), 42, lineEntry{sr: &series{}})
		}
		c.drop([]int32{idxs[drop]})
		// Walk the chain from its head: it must hold the other two, newest first.
		var got []int32
		for p := c.index[42]; p != noLine; p = c.entries[p].next {
			got = append(got, p)
		}
		var want []int32
		for i := 2; i >= 0; i-- {
			if i != drop {
				want = append(want, idxs[i])
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("drop %d: chain %v, want %v", drop, got, want)
		}
	}
}

func TestLineCacheCompactsDeadText(t *testing.T) {
	c := newLineCache()
	var dead []int32
	c.startBody()
	for i := range 400 {
		idx := c.insert(fmt.Appendf(nil, "sglang:some_long_metric_name{pid=\"%06d\"}", i), 0, lineEntry{sr: &series{}})
		if i%4 != 0 {
			dead = append(dead, idx)
		} else {
			c.use(idx)
		}
	}
	before := c.size().text
	c.drop(dead)
	c.endBody()
	sz := c.size()
	if sz.deadText != 0 || sz.text != before/4 {
		t.Fatalf("after compaction: %+v, want %d live bytes and no dead ones", sz, before/4)
	}
	// Every survivor is still found by its text, at its position first.
	c.startBody()
	for i := 0; i < 400; i += 4 {
		text := fmt.Appendf(nil, "sglang:some_long_metric_name{pid=\"%06d\"}", i)
		idx, hash := c.find(text)
		if idx == noLine || hash != 0 {
			t.Fatalf("%s: got %d (hash %x) after compaction, want a positional hit", text, idx, hash)
		}
		c.use(idx)
	}
	// Freed slots are reused before the slice grows.
	c.insert([]byte("new"), 0, lineEntry{sr: &series{}})
	if got := c.size().slots; got != 400 {
		t.Fatalf("%d slots after an insert, want the 400 there were", got)
	}
	c.reset()
	if sz := c.size(); sz != (cacheSize{}) {
		t.Fatalf("after reset: %+v", sz)
	}
}
