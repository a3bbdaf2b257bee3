package render

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/swarmboot/swarmboot/internal/testutil"
	"github.com/swarmboot/swarmboot/internal/verifytest"
)

// The agent's script, run for real: /bin/sh as its unit runs it, with the
// environment its unit gives it (the addresses pointed at a fake etcd on
// loopback, the TLS folder at a temporary one), real openssl, curl and
// coreutils, and on PATH nothing but the commands AgentTools names
// (systemctl and chcon stand-ins that record their arguments).

// agentRig is one node's TLS folder, the fake etcd it asks and a PATH.
type agentRig struct {
	t       *testing.T
	dir     string
	tls     string // the node's TLS folder
	ca      *verifytest.CA
	node    verifytest.Leaf // the installed certificate and the node's key
	env     map[string]string
	script  string
	shell   string
	bin     string
	publish func(w http.ResponseWriter) // what etcd answers for the node's key
	asked   []string                    // URLs etcd was asked
}

var t0 = time.Now().UTC().Truncate(time.Second)

// newAgentRig renders node d of a debian-12 cluster and sets its agent up
// with a certificate valid for another hour.
func newAgentRig(t *testing.T, extra string) *agentRig {
	t.Helper()
	for _, tool := range []string{"openssl", "curl"} {
		testutil.NeedTool(t, tool, tool)
	}
	c := mustLoad(t, fmt.Sprintf(agentLike, "debian-12", extra))
	p := planOf(t, c, "d")
	r := &agentRig{t: t, dir: t.TempDir(), ca: verifytest.NewCA("cluster CA", t0), env: agentEnv(t, p)}
	r.tls = filepath.Join(r.dir, "tls")
	r.node = r.ca.Issue("d", []netip.Addr{netip.MustParseAddr("10.0.0.3")}, t0.Add(-time.Hour), t0.Add(time.Hour), nil, false)
	r.write(r.tls+"/ca.pem", r.ca.PEM, 0o644)
	r.write(r.tls+"/cert.pem", r.node.CertPEM, 0o644)
	r.write(r.tls+"/key.pem", r.node.KeyPEM, 0o600)
	r.env["SWARMBOOT_TLS_DIR"] = r.tls
	words := strings.Fields(strings.SplitN(strings.SplitN(unitNamed(p, agentService).Contents, "\nExecStart=", 2)[1], "\n", 2)[0])
	if len(words) != 2 || words[1] != agentScript {
		t.Fatalf("the service runs %v", words)
	}
	r.shell, r.script = words[0], filepath.Join(r.dir, "cert-renew")
	r.write(r.script, []byte(fileAt(p, agentScript).Contents), 0o755)
	r.tools(false, false)
	return r
}

func (r *agentRig) write(p string, b []byte, mode os.FileMode) {
	r.t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, b, mode); err != nil {
		r.t.Fatal(err)
	}
}

// tools makes the PATH: the commands AgentTools names, and stand-ins for
// systemctl and chcon that record what they were asked (and fail when a
// file says so).
func (r *agentRig) tools(etcdCopy, relabel bool) {
	r.bin = filepath.Join(r.dir, "bin")
	os.RemoveAll(r.bin)
	for _, tool := range AgentTools(etcdCopy, relabel) {
		if tool == "systemctl" || tool == "chcon" {
			r.write(filepath.Join(r.bin, tool), []byte(fmt.Sprintf("#!/bin/sh\necho \"$*\" >> %s/%s.calls\n[ ! -e %s/%s.fails ]\n", r.dir, tool, r.dir, tool)), 0o755)
			continue
		}
		real, err := exec.LookPath(tool)
		if err != nil {
			r.t.Fatalf("%s: %v", tool, err)
		}
		r.write(filepath.Join(r.bin, tool), nil, 0o755)
		os.Remove(filepath.Join(r.bin, tool))
		if err := os.Symlink(real, filepath.Join(r.bin, tool)); err != nil {
			r.t.Fatal(err)
		}
	}
}

// serve runs a fake etcd member on loopback that answers the node's key
// with r.publish, over TLS requiring a client certificate of the CA, or
// plain http; it returns its URL.
func (r *agentRig) serve(plain bool) string {
	r.t.Helper()
	key := r.env["SWARMBOOT_CERT_KEY"]
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.asked = append(r.asked, req.URL.String())
		if req.URL.Path != "/v2/keys"+key || req.URL.Query().Get("quorum") != "true" {
			http.Error(w, "unexpected request", http.StatusTeapot)
			return
		}
		r.publish(w)
	}))
	if plain {
		srv.Start()
	} else {
		server := r.ca.Issue("etcd", []netip.Addr{netip.MustParseAddr("127.0.0.1")}, t0.Add(-time.Hour), t0.Add(time.Hour), nil, false)
		pool := x509.NewCertPool()
		pool.AddCert(r.ca.Cert)
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{server.TLS}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
		srv.StartTLS()
	}
	r.t.Cleanup(srv.Close)
	return srv.URL
}

// published makes etcd answer with a certificate, as pki publish wrote it.
func (r *agentRig) published(certPEM []byte) {
	r.value(base64.StdEncoding.EncodeToString(certPEM))
}

func (r *agentRig) value(v string) {
	r.publish = func(w http.ResponseWriter) {
		fmt.Fprintf(w, `{"action":"get","node":{"key":%q,"value":%q,"modifiedIndex":7,"createdIndex":7}}`, r.env["SWARMBOOT_CERT_KEY"], v)
	}
}

// run runs the script with the rendered environment and etcd at urls.
func (r *agentRig) run(urls ...string) (code int, out string) {
	r.t.Helper()
	r.env["SWARMBOOT_ETCD"] = strings.Join(urls, " ")
	cmd := exec.Command(r.shell, r.script)
	cmd.Dir = r.dir
	cmd.Env = []string{"PATH=" + r.bin}
	for k, v := range r.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	b, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(b)
	} else if err != nil {
		r.t.Fatal(err)
	}
	if strings.Contains(string(b), "not found") {
		r.t.Fatalf("the script ran a command AgentTools does not name:\n%s", b)
	}
	return 0, string(b)
}

func (r *agentRig) installed() []byte {
	r.t.Helper()
	b, err := os.ReadFile(r.tls + "/cert.pem")
	if err != nil {
		r.t.Fatal(err)
	}
	return b
}

func (r *agentRig) calls(tool string) string {
	b, _ := os.ReadFile(filepath.Join(r.dir, tool+".calls"))
	return string(b)
}

// leftovers are files the run left in the TLS folders.
func (r *agentRig) leftovers(dirs ...string) []string {
	var out []string
	for _, d := range append(dirs, r.tls) {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") {
				out = append(out, filepath.Join(d, e.Name()))
			}
		}
	}
	return out
}

func ino(t *testing.T, p string) uint64 {
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// A renewed certificate (same key, later end) is installed by a rename:
// a reader that opened the old file keeps reading it whole, the new file
// is what was published, nothing is left beside it, and the units that
// read the certificate only at start are restarted.
func TestAgentInstallsRenewed(t *testing.T) {
	r := newAgentRig(t, "")
	renewed := r.ca.Issue("d", nil, t0.Add(-time.Hour), t0.Add(3*time.Hour), r.node.Key, false)
	r.published(renewed.CertPEM)
	url := r.serve(false)
	old, err := os.Open(r.tls + "/cert.pem")
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	before := ino(t, r.tls+"/cert.pem")
	code, out := r.run(url)
	if code != 0 || !bytes.Equal(r.installed(), renewed.CertPEM) {
		t.Fatalf("exit %d, installed:\n%s\n%s", code, r.installed(), out)
	}
	if ino(t, r.tls+"/cert.pem") == before {
		t.Error("cert.pem was written in place, not replaced by a rename")
	}
	var kept bytes.Buffer
	kept.ReadFrom(old)
	if !bytes.Equal(kept.Bytes(), r.node.CertPEM) {
		t.Error("a reader of the old file saw it change")
	}
	if fi, _ := os.Stat(r.tls + "/cert.pem"); fi.Mode().Perm() != 0o644 {
		t.Errorf("cert.pem is %v, want 0644 (etcd reads it as its own user)", fi.Mode())
	}
	if l := r.leftovers(); len(l) > 0 {
		t.Errorf("left behind: %v", l)
	}
	if got := r.calls("systemctl"); got != "try-restart docker.service swarm-join.service\n" {
		t.Errorf("systemctl %q", got)
	}
	if !strings.Contains(out, "installed the certificate at "+url+"/v2/keys/swarmboot/t/certs/d: valid until") || len(r.asked) != 1 {
		t.Errorf("the journal says:\n%s\netcd was asked %v", out, r.asked)
	}
	// The next run finds it installed, and does nothing: without openssl
	// (run fails the test on a command that is not found), as most runs do.
	if err := os.Remove(filepath.Join(r.bin, "openssl")); err != nil {
		t.Fatal(err)
	}
	if code, out := r.run(url); code != 0 || !strings.Contains(out, "is the installed one") || r.calls("systemctl") != "try-restart docker.service swarm-join.service\n" {
		t.Errorf("second run: exit %d\n%s", code, out)
	}
}

// A certificate issued later is installed even when it ends sooner: an
// operator who shortens tls.validity renews every node at once.
func TestAgentInstallsShorterRenewal(t *testing.T) {
	r := newAgentRig(t, "")
	shorter := r.ca.Issue("d", nil, t0.Add(-30*time.Minute), t0.Add(10*time.Minute), r.node.Key, false)
	r.published(shorter.CertPEM)
	code, out := r.run(r.serve(false))
	if code != 0 || !bytes.Equal(r.installed(), shorter.CertPEM) || !strings.Contains(out, "installed the certificate at ") {
		t.Fatalf("exit %d, installed:\n%s\n%s", code, r.installed(), out)
	}
}

// An answer cut short (a 200 whose body never came whole: a member
// stalled past curl's -m, or closed the connection) is that member
// failing, as is an empty one: the next member is asked, and with none
// left the run keeps the certificate without failing the unit. (A boot
// test run read such an answer as a refusal and failed the unit.)
func TestAgentAnswerCutShort(t *testing.T) {
	for name, answer := range map[string]func(w http.ResponseWriter){
		"cut short": func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "500")
			w.WriteHeader(http.StatusOK)
			fmt.Fprint(w, `{"action":"get","node":{"va`)
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		},
		"empty": func(w http.ResponseWriter) { w.WriteHeader(http.StatusOK) },
	} {
		t.Run(name, func(t *testing.T) {
			bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { answer(w) }))
			t.Cleanup(bad.Close)
			r := newAgentRig(t, "")
			was := r.installed()
			code, out := r.run(bad.URL)
			if code != 0 || !strings.Contains(out, "no etcd member answered; "+bad.URL+"/v2/keys/swarmboot/t/certs/d: HTTP 200") || !bytes.Equal(r.installed(), was) {
				t.Errorf("the only member's answer %s: exit %d\n%s", name, code, out)
			}
			renewed := r.ca.Issue("d", nil, t0.Add(-time.Hour), t0.Add(3*time.Hour), r.node.Key, false)
			r.published(renewed.CertPEM)
			code, out = r.run(bad.URL, r.serve(false))
			if code != 0 || !bytes.Equal(r.installed(), renewed.CertPEM) {
				t.Errorf("the first member's answer %s, the second's whole: exit %d\n%s", name, code, out)
			}
		})
	}
}

// Everything else keeps the installed certificate: the run says why, and
// exits 1 when what is published is wrong (the unit shows failed), 0 when
// there is merely nothing newer.
func TestAgentRefuses(t *testing.T) {
	other := verifytest.NewCA("another CA", t0)
	for _, tc := range []struct {
		name  string
		plain bool // etcd over http: the installed certificate may have expired
		set   func(r *agentRig)
		code  int
		said  string
	}{
		{"nothing published", false, func(r *agentRig) {
			r.publish = func(w http.ResponseWriter) {
				w.WriteHeader(http.StatusNotFound)
				fmt.Fprint(w, `{"errorCode":100,"message":"Key not found","cause":"/swarmboot/t/certs/d","index":9}`)
			}
		}, 0, "nothing published at "},
		{"issued before the installed one", false, func(r *agentRig) {
			r.published(r.ca.Issue("d", nil, t0.Add(-2*time.Hour), t0.Add(30*time.Minute), r.node.Key, false).CertPEM)
		}, 0, "was not issued after the installed one"},
		// A later end does not make an older certificate newer: one
		// published again from an old copy of the PKI is never installed.
		{"issued before, ending later", false, func(r *agentRig) {
			r.published(r.ca.Issue("d", nil, t0.Add(-2*time.Hour), t0.Add(3*time.Hour), r.node.Key, false).CertPEM)
		}, 0, "was not issued after the installed one"},
		{"issued with it, ending sooner", false, func(r *agentRig) {
			r.published(r.ca.Issue("d", nil, t0.Add(-time.Hour), t0.Add(30*time.Minute), r.node.Key, false).CertPEM)
		}, 0, "was not issued after the installed one"},
		{"another CA", false, func(r *agentRig) {
			r.published(other.Issue("d", nil, t0.Add(-time.Hour), t0.Add(3*time.Hour), r.node.Key, false).CertPEM)
		}, 1, "does not verify against " + "TLS/ca.pem: unable to get local issuer certificate"},
		{"another key", false, func(r *agentRig) {
			r.published(r.ca.Issue("d", nil, t0.Add(-time.Hour), t0.Add(3*time.Hour), nil, false).CertPEM)
		}, 1, "it is not for this node's key"},
		{"not valid yet", false, func(r *agentRig) {
			r.published(r.ca.Issue("d", nil, t0.Add(time.Hour), t0.Add(3*time.Hour), r.node.Key, false).CertPEM)
		}, 1, "certificate is not yet valid"},
		{"expired", true, func(r *agentRig) {
			r.write(r.tls+"/cert.pem", r.ca.Issue("d", nil, t0.Add(-3*time.Hour), t0.Add(-2*time.Hour), r.node.Key, false).CertPEM, 0o644)
			r.published(r.ca.Issue("d", nil, t0.Add(-3*time.Hour), t0.Add(-time.Hour), r.node.Key, false).CertPEM)
		}, 1, "it expired on "},
		{"not base64", false, func(r *agentRig) { r.value("") }, 1, "its value is not base64"},
		{"not a certificate", false, func(r *agentRig) {
			r.published([]byte("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"))
		}, 1, "it is not a PEM certificate"},
		{"a key where the certificate goes", false, func(r *agentRig) { r.published(r.node.KeyPEM) }, 1, "it is not a PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newAgentRig(t, "")
			tc.set(r)
			was := r.installed()
			code, out := r.run(r.serve(tc.plain))
			if code != tc.code || !strings.Contains(out, strings.ReplaceAll(tc.said, "TLS", r.tls)) {
				t.Errorf("exit %d, want %d saying %q:\n%s", code, tc.code, tc.said, out)
			}
			if !bytes.Equal(r.installed(), was) || r.calls("systemctl") != "" {
				t.Errorf("the installed certificate changed, or units were restarted (%q)", r.calls("systemctl"))
			}
			if l := r.leftovers(); len(l) > 0 {
				t.Errorf("left behind: %v", l)
			}
			if code == 1 && !strings.Contains(out, "kept the installed one (until ") {
				t.Errorf("a refusal must say the installed certificate stays:\n%s", out)
			}
		})
	}
}

// Members are asked in turn: a dead one is passed over. None answering
// is not the node's fault while its certificate is valid (the next run
// tries again, exit 0); once it has expired, the node cannot get a
// renewed one by itself, and the run says how to recover it.
func TestAgentMembers(t *testing.T) {
	r := newAgentRig(t, "")
	renewed := r.ca.Issue("d", nil, t0.Add(-time.Hour), t0.Add(3*time.Hour), r.node.Key, false)
	r.published(renewed.CertPEM)
	live := r.serve(false)
	closed := httptest.NewServer(http.NotFoundHandler())
	gone := closed.URL // nothing listens there any more: connections are refused
	closed.Close()
	code, out := r.run(gone, live)
	if code != 0 || !bytes.Equal(r.installed(), renewed.CertPEM) || !strings.Contains(out, "at "+live+"/v2/keys") {
		t.Errorf("a dead first member: exit %d\n%s", code, out)
	}

	r = newAgentRig(t, "")
	code, out = r.run(gone)
	if code != 0 || !strings.Contains(out, "no etcd member answered; "+gone+"/v2/keys/swarmboot/t/certs/d: HTTP 000, curl exit 7 curl: (7)") || !strings.Contains(out, "the next run tries again") {
		t.Errorf("no member: exit %d\n%s", code, out)
	}
	r.write(r.tls+"/cert.pem", r.ca.Issue("d", nil, t0.Add(-3*time.Hour), t0.Add(-time.Hour), r.node.Key, false).CertPEM, 0o644)
	code, out = r.run(gone)
	if code != 1 || !strings.Contains(out, "this node's certificate expired on ") || !strings.Contains(out, "Re-provision the node, or copy its renewed cert.pem to "+r.tls+"/cert.pem") {
		t.Errorf("expired, no member: exit %d\n%s", code, out)
	}
}

// Where etcd reads a copy of its own (Flatcar, CoreOS), the copy is
// renewed first, with its owner; where SELinux labels files (Fedora
// CoreOS) a new file takes the label of the one it replaces; a failed
// rename leaves the installed certificate as it was; a failed restart
// fails the run, the certificate installed.
func TestAgentCopyRelabelAndFailures(t *testing.T) {
	// The copy's owner: as root, one that is not the agent's own user
	// (etcd is not root on those systems); otherwise only oneself.
	owner, err := user.Current()
	if err == nil && os.Geteuid() == 0 {
		owner, err = user.Lookup("nobody")
	}
	if err != nil {
		t.Fatal(err)
	}
	r := newAgentRig(t, "")
	copyDir := filepath.Join(r.dir, "etcd")
	r.write(copyDir+"/cert.pem", r.node.CertPEM, 0o644)
	uid, _ := strconv.Atoi(owner.Uid)
	gid, _ := strconv.Atoi(owner.Gid)
	if err := os.Chown(copyDir+"/cert.pem", uid, gid); err != nil {
		t.Fatal(err)
	}
	r.env["SWARMBOOT_ETCD_COPY"], r.env["SWARMBOOT_RELABEL"] = copyDir, "1"
	r.tools(true, true)
	renewed := r.ca.Issue("d", nil, t0.Add(-time.Hour), t0.Add(3*time.Hour), r.node.Key, false)
	r.published(renewed.CertPEM)
	code, out := r.run(r.serve(false))
	copied, _ := os.ReadFile(copyDir + "/cert.pem")
	if code != 0 || !bytes.Equal(copied, renewed.CertPEM) || !bytes.Equal(r.installed(), renewed.CertPEM) {
		t.Fatalf("exit %d; the copy:\n%s\n%s", code, copied, out)
	}
	if fi, err := os.Stat(copyDir + "/cert.pem"); err != nil || fi.Sys().(*syscall.Stat_t).Uid != uint32(uid) || fi.Sys().(*syscall.Stat_t).Gid != uint32(gid) || fi.Mode().Perm() != 0o644 {
		t.Errorf("etcd's copy must stay %s's, 0644: %v %v", owner.Username, fi.Mode(), err)
	}
	want := fmt.Sprintf("--reference=%s/cert.pem %s/.cert-renew.new\n--reference=%s/cert.pem %s/.cert-renew.new\n", copyDir, copyDir, r.tls, r.tls)
	if got := r.calls("chcon"); got != want {
		t.Errorf("chcon was asked:\n%s\nwant:\n%s", got, want)
	}
	if l := r.leftovers(copyDir); len(l) > 0 {
		t.Errorf("left behind: %v", l)
	}

	// mv fails: nothing changes.
	r = newAgentRig(t, "")
	r.published(r.ca.Issue("d", nil, t0.Add(-time.Hour), t0.Add(3*time.Hour), r.node.Key, false).CertPEM)
	os.Remove(filepath.Join(r.bin, "mv"))
	r.write(filepath.Join(r.bin, "mv"), []byte("#!/bin/sh\nexit 1\n"), 0o755)
	before := ino(t, r.tls+"/cert.pem")
	code, out = r.run(r.serve(false))
	if code != 1 || !bytes.Equal(r.installed(), r.node.CertPEM) || ino(t, r.tls+"/cert.pem") != before || !strings.Contains(out, "it could not be installed in "+r.tls) {
		t.Errorf("a failed rename: exit %d\n%s", code, out)
	}
	if l := r.leftovers(); len(l) > 0 {
		t.Errorf("left behind: %v", l)
	}

	// The restart fails: the run fails, the certificate stays installed.
	r = newAgentRig(t, "")
	renewed = r.ca.Issue("d", nil, t0.Add(-time.Hour), t0.Add(3*time.Hour), r.node.Key, false)
	r.published(renewed.CertPEM)
	r.write(filepath.Join(r.dir, "systemctl.fails"), nil, 0o644)
	code, out = r.run(r.serve(false))
	if code != 1 || !bytes.Equal(r.installed(), renewed.CertPEM) || !strings.Contains(out, "restarting docker.service swarm-join.service failed") {
		t.Errorf("a failed restart: exit %d\n%s", code, out)
	}
}
