// Logging in the format swarm 1.2.9 printed: logrus' TextFormatter without
// a terminal, `time="RFC3339" level=info msg="..." key=value`, fields sorted,
// values quoted unless made of [A-Za-z0-9.-] only.
// Learned from cli/cli.go (log output set to stdout, --log-level, --debug)
// and vendor/github.com/Sirupsen/logrus/text_formatter.go.

package swarmmodel

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

type level int

const (
	levelPanic level = iota
	levelFatal
	levelError
	levelWarn
	levelInfo
	levelDebug
)

var levelNames = []string{"panic", "fatal", "error", "warning", "info", "debug"}

func parseLevel(s string) (level, error) {
	switch strings.ToLower(s) {
	case "panic":
		return levelPanic, nil
	case "fatal":
		return levelFatal, nil
	case "error":
		return levelError, nil
	case "warn", "warning":
		return levelWarn, nil
	case "info":
		return levelInfo, nil
	case "debug":
		return levelDebug, nil
	}
	return 0, fmt.Errorf("not a valid logrus Level: %q", s)
}

type fields map[string]any

// logger is safe for concurrent use; all copies made by with() share the
// writer and the level.
type logger struct {
	core   *logCore
	fields fields
}

type logCore struct {
	mu    sync.Mutex
	out   io.Writer
	level level
	now   func() time.Time
}

func newLogger(out io.Writer, lvl level) *logger {
	return &logger{core: &logCore{out: out, level: lvl, now: time.Now}}
}

func (l *logger) setLevel(lvl level) {
	l.core.mu.Lock()
	l.core.level = lvl
	l.core.mu.Unlock()
}

func (l *logger) with(f fields) *logger {
	merged := fields{}
	for k, v := range l.fields {
		merged[k] = v
	}
	for k, v := range f {
		merged[k] = v
	}
	return &logger{core: l.core, fields: merged}
}

func (l *logger) enabled(lvl level) bool {
	l.core.mu.Lock()
	defer l.core.mu.Unlock()
	return lvl <= l.core.level
}

func (l *logger) log(lvl level, msg string) {
	c := l.core
	c.mu.Lock()
	defer c.mu.Unlock()
	if lvl > c.level {
		return
	}
	var b strings.Builder
	kv := func(k string, v any) {
		b.WriteString(k)
		b.WriteByte('=')
		s := fmt.Sprint(v)
		if needsQuoting(s) {
			fmt.Fprintf(&b, "%q", s)
		} else {
			b.WriteString(s)
		}
		b.WriteByte(' ')
	}
	kv("time", c.now().Format(time.RFC3339))
	kv("level", levelNames[lvl])
	if msg != "" {
		kv("msg", msg)
	}
	keys := make([]string, 0, len(l.fields))
	for k := range l.fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kv(k, l.fields[k])
	}
	b.WriteByte('\n')
	io.WriteString(c.out, b.String())
}

func needsQuoting(s string) bool {
	for _, ch := range s {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '.') {
			return true
		}
	}
	return false
}

func (l *logger) Debugf(format string, a ...any) { l.log(levelDebug, fmt.Sprintf(format, a...)) }
func (l *logger) Infof(format string, a ...any)  { l.log(levelInfo, fmt.Sprintf(format, a...)) }
func (l *logger) Warnf(format string, a ...any)  { l.log(levelWarn, fmt.Sprintf(format, a...)) }
func (l *logger) Errorf(format string, a ...any) { l.log(levelError, fmt.Sprintf(format, a...)) }
func (l *logger) Fatal(msg string)               { l.log(levelFatal, msg) }
