package cluster

import "strings"

// validator reports findings at the position of the key they concern.
type validator struct {
	c   *Cluster
	rep *Report
}

// errorf and warnf report at the key that decodes into field (a pointer,
// as &c.Docker.Port), unless its value failed to decode.
func (v validator) errorf(field any, kind error, format string, args ...any) {
	v.add(Error, field, kind, format, args...)
}

func (v validator) warnf(field any, kind error, format string, args ...any) {
	v.add(Warning, field, kind, format, args...)
}

func (v validator) add(sev Severity, field any, kind error, format string, args ...any) {
	if path := v.path(field); !failedAt(v.c.failed, path) {
		v.rep.add(sev, path, v.c.Pos(path), kind, format, args...)
	}
}

func (v validator) path(field any) string { return v.c.pathOf(field) }

// name is the key's own name, the last of its path.
func (v validator) name(field any) string {
	p := v.path(field)
	return p[strings.LastIndex(p, ".")+1:]
}

// written reports whether the description wrote the key of field.
func (v validator) written(field any) bool { return v.c.given(v.path(field)) }

// valid reports whether the key of field kept its own rules: a rule
// spanning keys has nothing to add about one that broke them.
func (v validator) valid(field any) bool {
	return len(v.c.rejected) == 0 || !v.c.rejected[v.path(field)]
}
