package english

import "testing"

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		n          int
		noun, want string
	}{
		{1, "file", "1 file"}, {0, "file", "0 files"}, {3, "entry", "3 entries"}, {1, "entry", "1 entry"},
		{2, "key", "2 keys"}, {2, "address", "2 addresses"}, {2, "node certificate", "2 node certificates"},
	} {
		if got := Count(tc.n, tc.noun); got != tc.want {
			t.Errorf("Count(%d, %q) = %q, want %q", tc.n, tc.noun, got, tc.want)
		}
	}
	if Verb(1, "holds") != "holds" || Verb(2, "holds") != "hold" {
		t.Errorf("Verb: %q %q", Verb(1, "holds"), Verb(2, "holds"))
	}
}
