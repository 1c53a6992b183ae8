package convert

import (
	"hash/maphash"
	"slices"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/promtext"
)

// lineCache remembers what each kept line's series text resolved to, so
// that a line seen in an earlier body costs one comparison instead of label
// tokenising, sorting and key building. Entries go with their series.
//
// Per SGLang TP=8 target that is thousands of lines, so the cache holds no
// pointers but the series: entries sit in one slice and are referred to by
// index, their texts sit in one byte arena in the order the body printed
// them, and the index is keyed by a hash. A scrape then compares each line
// with the next stretch of one array, where separately allocated keys cost
// a cache miss per line, and the garbage collector has a few large objects
// to mark, not thousands.
//
// Bodies rarely change shape between scrapes, so the line at the same
// position as in the previous body usually has the same text: find tries
// that entry before the hash lookup.
type lineCache struct {
	index    map[uint64]int32 // hash of the text -> newest entry with it
	entries  []lineEntry
	free     []int32 // indexes of free entries
	text     []byte  // the entries' texts
	deadText int     // bytes of text whose entries are gone
	seed     maphash.Seed

	// prev are the previous body's kept lines in order, and cur this
	// body's so far (noLine for a line that is not cached).
	prev, cur []int32
	moved     []bool // scratch for compact
}

// noLine marks a kept line that has no cache entry.
const noLine = -1

// lineEntry is what one cached text resolved to.
type lineEntry struct {
	sr     *series // nil for a free entry
	off, n uint32  // the text, in lineCache.text
	hash   uint64  // of the text, so that drop need not hash it again
	next   int32   // the next older entry with the same hash, or noLine
	typ    promtext.Type
	role   role
	bound  float64
}

// newLineCache returns an empty cache with its own hash seed.
func newLineCache() lineCache {
	return lineCache{index: map[uint64]int32{}, seed: maphash.MakeSeed()}
}

// startBody begins a body: lines are then found and kept in its order.
func (c *lineCache) startBody() { c.cur = c.cur[:0] }

// find returns the entry that text resolved to before, or noLine. The
// hash is returned for insert when it had to be computed.
func (c *lineCache) find(text []byte) (int32, uint64) {
	if i := len(c.cur); i < len(c.prev) {
		if idx := c.prev[i]; idx != noLine && string(c.textOf(idx)) == string(text) {
			return idx, 0
		}
	}
	h := maphash.Bytes(c.seed, text)
	idx, ok := c.index[h]
	if !ok {
		return noLine, h
	}
	for ; idx != noLine; idx = c.entries[idx].next {
		if string(c.textOf(idx)) == string(text) {
			return idx, h
		}
	}
	return noLine, h
}

// entry returns the entry at idx, valid until the next insert.
func (c *lineCache) entry(idx int32) *lineEntry { return &c.entries[idx] }

// use records that this body's next kept line is idx (noLine when it is
// not cached), so that the next body can be matched line by line.
func (c *lineCache) use(idx int32) { c.cur = append(c.cur, idx) }

// textOf is the text of entry idx, in the arena.
func (c *lineCache) textOf(idx int32) []byte {
	e := &c.entries[idx]
	return c.text[e.off : e.off+e.n]
}

// insert caches text as resolving to e, with hash from find (0 if find did
// not compute it), and returns its index. A text already cached under
// another family type gets a second, newer entry, which find meets first.
func (c *lineCache) insert(text []byte, hash uint64, e lineEntry) int32 {
	if hash == 0 {
		hash = maphash.Bytes(c.seed, text)
	}
	e.off, e.n, e.hash = uint32(len(c.text)), uint32(len(text)), hash
	c.text = append(c.text, text...)
	e.next = noLine
	if head, ok := c.index[hash]; ok {
		e.next = head
	}
	var idx int32
	if n := len(c.free); n > 0 {
		idx = c.free[n-1]
		c.free = c.free[:n-1]
		c.entries[idx] = e
	} else {
		idx = int32(len(c.entries))
		c.entries = append(c.entries, e)
	}
	c.index[hash] = idx
	return idx
}

// drop forgets the entries idxs, those of a series that is gone.
func (c *lineCache) drop(idxs []int32) {
	for _, idx := range idxs {
		e := &c.entries[idx]
		hash := e.hash
		if head := c.index[hash]; head == idx {
			if e.next == noLine {
				delete(c.index, hash)
			} else {
				c.index[hash] = e.next
			}
		} else {
			for p := head; p != noLine; p = c.entries[p].next {
				if c.entries[p].next == idx {
					c.entries[p].next = e.next
					break
				}
			}
		}
		c.deadText += int(e.n)
		*e = lineEntry{}
		c.free = append(c.free, idx)
	}
}

// endBody closes a body that was converted: its lines become the ones the
// next body is matched against, and the text arena is compacted when more
// of it is dead than live.
func (c *lineCache) endBody() {
	c.compact()
	c.prev, c.cur = c.cur, c.prev
}

// compact rewrites the text arena once more of it is dead than live, in
// this body's line order, so that it stays proportional to the live series
// and the next scrape reads it front to back.
func (c *lineCache) compact() {
	if c.deadText < 4096 || c.deadText < len(c.text)/2 {
		return
	}
	text := make([]byte, 0, len(c.text)-c.deadText)
	c.moved = slices.Grow(c.moved[:0], len(c.entries))[:len(c.entries)]
	clear(c.moved)
	move := func(idx int32) {
		if idx == noLine || c.moved[idx] || c.entries[idx].sr == nil {
			return
		}
		c.moved[idx] = true
		e := &c.entries[idx]
		off := uint32(len(text))
		text = append(text, c.text[e.off:e.off+e.n]...)
		e.off = off
	}
	for _, idx := range c.cur {
		move(idx)
	}
	for idx := range c.entries {
		move(int32(idx))
	}
	c.text, c.deadText = text, 0
}

// reset forgets everything, as after a failed scrape.
func (c *lineCache) reset() {
	clear(c.index)
	c.entries = c.entries[:0]
	c.free = c.free[:0]
	c.text = c.text[:0]
	c.deadText = 0
	c.prev = c.prev[:0]
	c.cur = c.cur[:0]
}

// cacheSize is what the cache holds, for tests that bound it.
type cacheSize struct {
	live     int // entries in use
	slots    int // entries allocated, in use or free
	hashes   int // distinct hashes indexed
	text     int // bytes in the text arena
	deadText int // bytes of it whose entries are gone
}

// size reports what the cache holds.
func (c *lineCache) size() cacheSize {
	s := cacheSize{slots: len(c.entries), hashes: len(c.index), text: len(c.text), deadText: c.deadText}
	s.live = len(c.entries) - len(c.free)
	return s
}
