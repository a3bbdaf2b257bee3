package boottest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"time"
)

// qmpCommand sends one command on a VM's QMP socket and waits for its
// answer. QMP is a Unix socket, so it works from outside the namespace.
func qmpCommand(socket, command string) error {
	conn, err := net.DialTimeout("unix", socket, 5*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	var msg map[string]json.RawMessage
	dec := json.NewDecoder(r)
	if err := dec.Decode(&msg); err != nil { // the greeting
		return fmt.Errorf("qmp greeting: %w", err)
	}
	for _, cmd := range []string{"qmp_capabilities", command} {
		if err := json.NewEncoder(conn).Encode(map[string]string{"execute": cmd}); err != nil {
			return err
		}
		for { // skip asynchronous events until the reply
			msg = nil
			if err := dec.Decode(&msg); err != nil {
				if cmd == "quit" {
					return nil // QEMU may close the socket before answering
				}
				return fmt.Errorf("qmp %s: %w", cmd, err)
			}
			if e, ok := msg["error"]; ok {
				return fmt.Errorf("qmp %s: %s", cmd, e)
			}
			if _, ok := msg["return"]; ok {
				break
			}
		}
	}
	return nil
}
