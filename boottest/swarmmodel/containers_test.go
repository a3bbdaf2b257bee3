package swarmmodel

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func cached(id, name, swarmID string) *container {
	s := containerSummary{"Id": id, "Names": []any{"/" + name}}
	if swarmID != "" {
		s["Labels"] = map[string]any{swarmIDLabel: swarmID}
	}
	return &container{summary: s}
}

// TestFindContainer: swarm's order of lookups and its refusals of
// ambiguous names and prefixes.
func TestFindContainer(t *testing.T) {
	const (
		webID = "aaaa11112222333344445555666677778888999900001111222233334444"
		dbID  = "bbbb11112222333344445555666677778888999900001111222233334444"
		db2ID = "bbbc11112222333344445555666677778888999900001111222233334444"
		sidW  = "cccc00001111222233334444555566667777888899990000111122223333"
		// A container whose name is the short ID of another one.
		trickID = "dddd11112222333344445555666677778888999900001111222233334444"
	)
	e1, e2 := &engine{}, &engine{}
	list := []located{
		{engine: e1, engineID: "E1|10.0.0.1:2375", engineName: "node-01", c: cached(webID, "web", sidW)},
		{engine: e1, engineID: "E1|10.0.0.1:2375", engineName: "node-01", c: cached(dbID, "db", "")},
		{engine: e2, engineID: "E2|10.0.0.2:2375", engineName: "node-02", c: cached(db2ID, "db", "")},
		{engine: e2, engineID: "E2|10.0.0.2:2375", engineName: "node-02", c: cached(trickID, webID[:12], "")},
	}
	tests := []struct{ in, want string }{
		{webID, webID},
		{webID[:12], webID}, // the short ID wins over a name
		{sidW, webID},
		{sidW[:12], webID},
		{"web", webID},
		{"/web", webID},
		{"node-01/web", webID},
		{"E1|10.0.0.1:2375/web", webID},
		{"node-01/db", dbID},
		{"node-02/db", db2ID},
		{"db", ""},       // on two engines
		{"aaaa1", webID}, // a unique ID prefix
		{"dddd", trickID},
		{"bbbb", dbID},
		{"bbb", ""}, // two IDs
		{"cccc0", webID},
		{"node-03/web", ""},
		{"nothing", ""},
		{"", ""},
	}
	for _, tc := range tests {
		got := findContainer(list, tc.in)
		id := ""
		if got != nil {
			id = got.c.id()
		}
		if id != tc.want {
			t.Errorf("findContainer(%q) = %.12s, want %.12s", tc.in, id, tc.want)
		}
	}
	// Swarm's quirk: a prefix of both a container's ID and its swarm ID
	// counts it twice, and finds nothing.
	same := []located{{engine: e1, engineName: "n", c: cached("abcd1", "x", "abce2")}}
	if got := findContainer(same, "abc"); got != nil {
		t.Errorf("prefix of the ID and the swarm ID of one container: found %s, swarm found nothing", got.c.id())
	}
}

func decodeBody(t *testing.T, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestBuildContainerConfig: what swarm changed in a create request before
// scheduling it.
func TestBuildContainerConfig(t *testing.T) {
	cfg := decodeBody(t, `{"Image":"busybox","Memory":1048576,"CpuShares":1,"Cpuset":"0",
		"Env":["A=1","reschedule:on-node-failure","B=x:y"],"HostConfig":{"Memory":0,"AutoRemove":true}}`)
	req, err := buildContainerConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if req != (resourceRequest{cpus: 1, memory: 1 << 20}) {
		t.Errorf("request %+v", req)
	}
	got, _ := json.Marshal(cfg)
	want := `{"Env":["A=1","B=x:y"],"HostConfig":{"AutoRemove":true,"CpuShares":1,"CpusetCpus":"0","Memory":1048576},` +
		`"Image":"busybox","Labels":{"com.docker.swarm.reschedule-policies":"[\"on-node-failure\"]"}}`
	if string(got) != want {
		t.Errorf("config\n got %s\nwant %s", got, want)
	}

	for body, msg := range map[string]string{
		`{"Env":["constraint:node==node-01"]}`:                              "scheduling constraints (node==node-01): not implemented by this model of swarm 1.2.9",
		`{"Labels":{"com.docker.swarm.affinities":"[\"container==web\"]"}}`: "scheduling affinities (container==web): not implemented by this model of swarm 1.2.9",
		`{"Env":["whitelist:node==a"]}`:                                     "scheduling whitelists (node==a): not implemented by this model of swarm 1.2.9",
		`{"Env":["reschedule:off","reschedule:on-node-failure"]}`:           "too many reschedule policies",
		`{"Env":["reschedule:always"]}`:                                     "invalid reschedule policy: always",
	} {
		_, err := buildContainerConfig(decodeBody(t, body))
		if err == nil || err.Error() != msg {
			t.Errorf("%s: %v, want %q", body, err, msg)
		}
		var nm errNotModelled
		if strings.HasPrefix(msg, "scheduling") != errors.As(err, &nm) {
			t.Errorf("%s: %T, want errNotModelled only for scheduling expressions", body, err)
		}
	}
}
