package boottest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Proc is a server the test runs on the host side, inside the test's
// network namespace (an etcd, a dockerd, the swarm model), with its output
// in a log file. It is stopped by its PID, gently first: a dockerd stops
// the containerd it started itself only when asked to.
type Proc struct {
	Name   string
	Log    string
	cmd    *exec.Cmd
	exited chan struct{}
}

// StartProc starts name with args and the extra environment in the
// namespace; dir receives NAME.log.
func StartProc(ns *Netns, dir, name string, env []string, bin string, args ...string) (*Proc, error) {
	p := &Proc{Name: name, Log: filepath.Join(dir, name+".log"), exited: make(chan struct{})}
	logf, err := os.OpenFile(p.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	// Not bound to a context: it lives until Stop.
	p.cmd = ns.Command(context.Background(), bin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	// nsenter execs the program, so the PID is the server's own.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		_ = p.cmd.Wait()
		logf.Close()
		close(p.exited)
	}()
	return p, nil
}

// Running reports whether the process is still up.
func (p *Proc) Running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Stop sends SIGTERM, waits up to grace, then kills; by PID.
func (p *Proc) Stop(grace time.Duration) {
	if !p.Running() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}
