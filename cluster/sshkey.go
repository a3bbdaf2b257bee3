package cluster

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
)

func validKeyType(t string) bool {
	for _, prefix := range []string{"ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-"} {
		if strings.HasPrefix(t, prefix) {
			return true
		}
	}
	return false
}

// checkSSHKey checks a public key line as sshd would read it: a key type,
// base64 of the key in SSH's wire format whose first string repeats the
// type, and for ed25519 exactly a 32-byte key. A truncated paste or a
// placeholder fails here rather than locking the operator out.
func checkSSHKey(line string) error {
	f := strings.Fields(line)
	switch {
	case strings.ContainsAny(line, "\n\r"):
		return fmt.Errorf("more than one line")
	case len(f) < 2 || !validKeyType(f[0]):
		return fmt.Errorf("no key type such as ssh-ed25519 first")
	}
	blob, err := base64.StdEncoding.DecodeString(f[1])
	if err != nil {
		return fmt.Errorf("its key is not base64")
	}
	keyType, rest, ok := sshString(blob)
	switch {
	case !ok || string(keyType) != f[0]:
		return fmt.Errorf("its key is not a %s key", f[0])
	case f[0] == "ssh-ed25519":
		if key, rest, ok := sshString(rest); !ok || len(key) != 32 || len(rest) != 0 {
			return fmt.Errorf("its ed25519 key is not 32 bytes")
		}
	case len(rest) == 0:
		return fmt.Errorf("its key has no key material")
	}
	return nil
}

// sshString reads one length-prefixed string of SSH's wire format.
func sshString(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, false
	}
	return b[4 : 4+n], b[4+n:], true
}
