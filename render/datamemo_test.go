package render

import (
	"fmt"
	"strings"
	"testing"
)

// The data URL memo answers what encoding gives, for repeated and for
// new contents alike, and stays within its bound.
func TestDataURLMemo(t *testing.T) {
	saved := dataURLs
	dataURLs = &urlMemo{m: map[[32]byte]encodedURL{}, max: 8}
	t.Cleanup(func() { dataURLs = saved })
	for round := 0; round < 2; round++ {
		for i := 0; i < 20; i++ {
			contents := []byte(fmt.Sprintf("[Unit]\nDescription=%d\n%s", i, strings.Repeat("x=1\n", i*50)))
			src, comp := dataURL(contents)
			wantSrc, wantComp := encodeDataURL(contents)
			if src != wantSrc || comp != wantComp {
				t.Fatalf("round %d, contents %d: memo gave %.40q %q, encoding %.40q %q", round, i, src, comp, wantSrc, wantComp)
			}
		}
	}
	if n := len(dataURLs.m); n != 8 {
		t.Errorf("the memo holds %d entries, want its bound 8", n)
	}
}
