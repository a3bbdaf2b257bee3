package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/swarmboot/swarmboot/internal/testutil"
	"github.com/swarmboot/swarmboot/verify"
)

// The PKI is the cluster's trust root. These tests break it the ways
// issue #19 lists, through the command line.

// rendered makes a description, its PKI (pki/ beside it) and an output
// folder, and returns the three paths.
func rendered(t *testing.T) (file, dir, out string) {
	t.Helper()
	file = secureDesc(t)
	dir, out = filepath.Join(filepath.Dir(file), "pki"), filepath.Join(filepath.Dir(file), "out")
	if code, _, errOut := runCLI(t, "", "render", file, "-o", out, "--pki", dir); code != ExitOK {
		t.Fatalf("render: exit %d\n%s", code, errOut)
	}
	return file, dir, out
}

// Class 1: the CA key never reaches a node. A ca.pem that holds a key
// (any private-key block, anywhere in it) is refused; extra blocks in a
// node's files are refused; what nodes get is re-encoded certificates.
func TestCAKeyNeverReachesNodes(t *testing.T) {
	file, dir, out := rendered(t)
	ca, key := mustRead(t, dir+"/ca.pem"), mustRead(t, dir+"/ca-key.pem")
	pkcs8 := strings.ReplaceAll(key, "EC PRIVATE KEY", "PRIVATE KEY")
	before := snapshot(t, out)
	for name, bundle := range map[string]string{
		"cat ca.pem ca-key.pem": ca + key,
		"key first":             key + ca,
		"PKCS#8 key":            ca + pkcs8,
		"RSA-typed block":       ca + strings.ReplaceAll(key, "EC PRIVATE KEY", "RSA PRIVATE KEY"),
	} {
		os.WriteFile(dir+"/ca.pem", []byte(bundle), 0o644)
		for _, args := range [][]string{{"render", file, "-o", out, "--pki", dir}, {"render", file, "--node", "etcd-01", "--pki", dir}, {"validate", file}} {
			code, stdout, errOut := runCLI(t, "", args...)
			if code == ExitOK || !strings.Contains(errOut, dir+"/ca.pem holds a private key") || strings.Contains(stdout, keyBody(t, dir+"/ca-key.pem")) {
				t.Errorf("%s, %s: exit %d\n%s", name, args[0], code, errOut)
			}
		}
	}
	if fmt.Sprint(snapshot(t, out)) != fmt.Sprint(before) {
		t.Error("a refused render changed the output")
	}
	// A bundle with text around it: nodes get the certificate alone.
	os.WriteFile(dir+"/ca.pem", []byte("Certificate:\n  Data: the CA\n"+ca+"end of bundle\n"), 0o644)
	if code, stdout, errOut := runCLI(t, "", "render", file, "--node", "etcd-01", "--pki", dir); code != ExitOK || strings.Contains(stdout, "the CA") || !strings.Contains(stdout, keyBody(t, dir+"/client/ca.pem")) {
		t.Errorf("a commented bundle: exit %d\n%s", code, errOut)
	}
	os.WriteFile(dir+"/ca.pem", []byte(ca), 0o644)
	for _, f := range []string{"cert.pem", "key.pem"} {
		p := dir + "/nodes/etcd-01/" + f
		good := mustRead(t, p)
		os.WriteFile(p, []byte(good+key), 0o600)
		if code, _, errOut := runCLI(t, "", "render", file, "-o", out, "--pki", dir); code == ExitOK || !strings.Contains(errOut, p+" holds 2 PEM blocks") {
			t.Errorf("%s with the CA key appended: exit %d\n%s", f, code, errOut)
		}
		os.WriteFile(p, []byte(good), 0o600)
	}
	noCAKey(t, out, keyBody(t, dir+"/ca-key.pem"))
}

// Class 2: renders started together on a fresh PKI make one CA, and
// every output carries it. They are separate processes, as users start
// them.
func TestConcurrentRendersOneCA(t *testing.T) {
	file := secureDesc(t)
	dir := filepath.Join(filepath.Dir(file), "pki")
	const n = 6
	var wg sync.WaitGroup
	errs := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := child(t, nil, "render", file, "-o", filepath.Join(filepath.Dir(file), fmt.Sprint("out", i))).CombinedOutput()
			if err != nil {
				errs[i] = fmt.Sprintf("%v\n%s", err, out)
			}
		}()
	}
	wg.Wait()
	for i, e := range errs {
		if e != "" {
			t.Errorf("render %d: %s", i, e)
		}
	}
	ca := keyBody(t, dir+"/ca.pem")
	for i := range n {
		if ud := mustRead(t, filepath.Join(filepath.Dir(file), fmt.Sprint("out", i), "etcd-01", "user-data")); !strings.Contains(ud, ca) {
			t.Errorf("out%d carries another CA than %s/ca.pem", i, dir)
		}
	}
	if code, _, errOut := runCLI(t, "", "pki", "status", file); code != ExitOK {
		t.Errorf("the PKI after concurrent renders:\n%s", errOut)
	}
}

// A render that waits for the lock says who holds it, once.
func TestRenderWaitsForTheLock(t *testing.T) {
	file := secureDesc(t)
	dir := filepath.Join(filepath.Dir(file), "pki")
	os.Mkdir(dir, 0o700)
	holder, err := os.OpenFile(dir+"/.lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	holder.WriteString("pid 4242 (swarmboot render elsewhere)\n")
	syscall.Flock(int(holder.Fd()), syscall.LOCK_EX)
	cmd := child(t, nil, "render", file, "-o", filepath.Join(filepath.Dir(file), "out"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	holder.Close() // lets go of the lock
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if got := strings.Count(stderr.String(), "waiting for pid 4242 (swarmboot render elsewhere), which holds the PKI "+dir); got != 1 {
		t.Errorf("said %d times who holds the lock:\n%s", got, stderr.String())
	}
}

// Class 3: no spelling, symlink or bind mount of -o reaches the PKI.
func TestOutputCannotReachThePKI(t *testing.T) {
	file, dir, _ := rendered(t)
	// An old output that holds the PKI, reached through a link.
	old := filepath.Join(filepath.Dir(file), "old")
	os.Mkdir(old, 0o755)
	os.WriteFile(filepath.Join(old, ".swarmboot-output"), []byte("x\n"), 0o644)
	moved := filepath.Join(old, "pki")
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(filepath.Dir(file), "link")
	os.Symlink(old, link)
	ca := mustRead(t, moved+"/ca-key.pem")
	for _, o := range []string{link, link + "/", old + "/../old", filepath.Join(link, "pki", "..")} {
		if code, _, errOut := runCLI(t, "", "render", file, "-o", o, "--pki", moved); code != ExitUsage || !strings.Contains(errOut, "which every render replaces whole") {
			t.Errorf("-o %s: exit %d\n%s", o, code, errOut)
		}
	}
	// A render without TLS keeps the PKI too: the cluster may turn it on again.
	if code, _, errOut := runCLI(t, "", "render", seedPath(t), "-o", link, "--pki", moved); code != ExitUsage {
		t.Errorf("a plain render into the output that holds the PKI: exit %d\n%s", code, errOut)
	}
	// The PKI reached through a link to inside the output.
	os.Symlink(moved, filepath.Join(filepath.Dir(file), "pkilink"))
	if code, _, errOut := runCLI(t, "", "render", file, "-o", old, "--pki", filepath.Join(filepath.Dir(file), "pkilink")); code != ExitUsage {
		t.Errorf("--pki through a link into the output: exit %d\n%s", code, errOut)
	}
	// The output inside the PKI.
	if code, _, errOut := runCLI(t, "", "render", file, "-o", moved+"/out", "--pki", moved); code != ExitUsage {
		t.Errorf("-o inside the PKI: exit %d\n%s", code, errOut)
	}
	if mustRead(t, moved+"/ca-key.pem") != ca {
		t.Fatal("the CA key changed")
	}
}

// needRoot skips a test that needs root, except in CI, which runs as
// root: there a missing privilege fails it.
func needRoot(t *testing.T, why string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if testutil.InCI() {
		t.Fatalf("this test needs root %s, and CI runs as root", why)
	}
	t.Skipf("needs root %s", why)
}

// A bind mount of the output's folder cannot hide the PKI inside it: the
// check compares device and inode of every folder above the PKI.
func TestBindMountCannotReachThePKI(t *testing.T) {
	needRoot(t, "for a mount namespace")
	file, dir, out := rendered(t)
	inside := filepath.Join(out, "pki")
	if err := os.Rename(dir, inside); err != nil {
		t.Fatal(err)
	}
	mnt := filepath.Join(filepath.Dir(file), "mnt")
	os.Mkdir(mnt, 0o755)
	cmd := child(t, []string{"SWARMBOOT_TEST_BIND=" + out + ":" + mnt}, "render", file, "-o", out, "--pki", filepath.Join(mnt, "pki"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	b, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != ExitUsage || !strings.Contains(string(b), "which every render replaces whole") {
		t.Errorf("--pki through a bind mount of the output: %v\n%s", err, b)
	}
	if _, err := os.Stat(filepath.Join(inside, "ca-key.pem")); err != nil {
		t.Errorf("the CA is gone: %v", err)
	}
}

// Class 4: a render that fails writes nothing into the PKI: not a first
// CA, not a certificate for a new node.
func TestFailedRenderLeavesThePKI(t *testing.T) {
	file := secureDesc(t)
	base := filepath.Dir(file)
	dir := filepath.Join(base, "pki")
	afile := filepath.Join(base, "afile")
	os.WriteFile(afile, []byte("x"), 0o644)
	foreign := filepath.Join(base, "foreign")
	os.Mkdir(foreign, 0o755)
	os.WriteFile(filepath.Join(foreign, "precious"), []byte("x"), 0o644)
	for _, o := range []string{afile, foreign, filepath.Join(afile, "sub")} {
		if code, _, errOut := runCLI(t, "", "render", file, "-o", o); code == ExitOK {
			t.Errorf("-o %s: exit 0\n%s", o, errOut)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Fatalf("-o %s: a failed render made the PKI", o)
		}
	}
	// An existing PKI and a new node: nothing is issued by a failing render.
	_, dir, _ = rendered(t)
	file = filepath.Join(filepath.Dir(dir), "cluster.yaml")
	before := snapshot(t, dir)
	grown := strings.Replace(mustRead(t, file), "nodes:\n", "nodes:\n  - {name: docker-04, ip: 192.168.101.114, roles: [docker], profile: flatcar}\n", 1)
	os.WriteFile(file, []byte(grown), 0o644)
	for _, o := range []string{afile, foreign} {
		if code, _, errOut := runCLI(t, "", "render", file, "-o", o, "--pki", dir); code == ExitOK {
			t.Errorf("-o %s: exit 0\n%s", o, errOut)
		}
		if fmt.Sprint(snapshot(t, dir)) != fmt.Sprint(before) {
			t.Errorf("-o %s: a failed render changed the PKI", o)
		}
	}
}

// Class 5: a PKI that is gone, or another CA, is refused for an output
// its nodes were rendered with, before any CA is made; --new-ca says it
// is meant. An output without TLS records no CA.
func TestOutputRemembersItsCA(t *testing.T) {
	file, dir, out := rendered(t)
	before := snapshot(t, out)
	os.RemoveAll(dir)
	code, _, errOut := runCLI(t, "", "render", file, "-o", out, "--pki", dir)
	if code != ExitInvalid || !strings.Contains(errOut, "which its running nodes trust") || !strings.Contains(errOut, "holds no CA") {
		t.Errorf("render after rm -rf pki: exit %d\n%s", code, errOut)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Error("a refused render made a CA")
	}
	if fmt.Sprint(snapshot(t, out)) != fmt.Sprint(before) {
		t.Error("a refused render changed the output")
	}
	other := filepath.Join(t.TempDir(), "pki")
	runCLI(t, "", "pki", "init", file, "--pki", other)
	if code, _, errOut := runCLI(t, "", "render", file, "-o", out, "--pki", other); code != ExitInvalid || !strings.Contains(errOut, "holds another CA") {
		t.Errorf("render with another PKI: exit %d\n%s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "", "vagrant", file, "-o", out, "--pki", other); code != ExitInvalid || !strings.Contains(errOut, "holds another CA") {
		t.Errorf("vagrant with another PKI: exit %d\n%s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "", "render", file, "-o", out, "--pki", other, "--new-ca"); code != ExitOK {
		t.Errorf("--new-ca: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(mustRead(t, out+"/.swarmboot-output"), "ca sha256:") {
		t.Error("the output does not record its CA")
	}
	plain := filepath.Join(t.TempDir(), "plain")
	runCLI(t, "", "render", seedPath(t), "-o", plain)
	if strings.Contains(mustRead(t, plain+"/.swarmboot-output"), "ca ") {
		t.Error("an output without TLS records a CA")
	}
	if code, _, errOut := runCLI(t, "", "render", file, "-o", plain, "--pki", dir); code != ExitOK {
		t.Errorf("the first TLS render into a plain output: exit %d\n%s", code, errOut)
	}
}

// pastCA writes a CA into dir that is valid from..until, with its key.
func pastCA(t *testing.T, dir string, from, until time.Time) {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "old CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: from, NotAfter: until}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalPKCS8PrivateKey(k)
	os.MkdirAll(dir, 0o700)
	os.WriteFile(dir+"/ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(dir+"/ca-key.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), 0o600)
}

// Class 6: no message steers towards replacing the CA, and an expired
// CA's message says what it means for the running nodes.
func TestMessagesKeepTheCA(t *testing.T) {
	file := secureDesc(t)
	check := func(name string, code int, msg string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: exit %d, the message lacks %q:\n%s", name, code, w, msg)
			}
		}
		for _, bad := range []string{"--force", "init", "new CA", "replace"} {
			if strings.Contains(msg, bad) {
				t.Errorf("%s: the message suggests %q:\n%s", name, bad, msg)
			}
		}
	}
	dir := filepath.Join(t.TempDir(), "pki")
	pastCA(t, dir, time.Now().Add(-48*time.Hour), time.Now().Add(-time.Hour))
	code, _, msg := runCLI(t, "", "render", file, "-o", filepath.Join(t.TempDir(), "o"), "--pki", dir)
	check("expired CA", code, msg, dir+"/ca.pem", "expired", "the nodes that trust it refuse")
	pastCA(t, dir, time.Now().Add(time.Hour), time.Now().Add(48*time.Hour))
	code, _, msg = runCLI(t, "", "render", file, "-o", filepath.Join(t.TempDir(), "o"), "--pki", dir)
	check("CA not yet valid", code, msg, "valid only from", "check the clock")
	// A PKCS#8 CA key signs; a mismatched pair is named.
	pastCA(t, dir, time.Now().Add(-time.Hour), time.Now().Add(48*time.Hour))
	if code, _, msg := runCLI(t, "", "render", file, "-o", filepath.Join(t.TempDir(), "o"), "--pki", dir, "--nodes", "etcd-01"); code != ExitOK {
		t.Errorf("a PKCS#8 CA key: exit %d\n%s", code, msg)
	}
	other := filepath.Join(t.TempDir(), "pki")
	pastCA(t, other, time.Now().Add(-time.Hour), time.Now().Add(48*time.Hour))
	os.WriteFile(dir+"/ca-key.pem", []byte(mustRead(t, other+"/ca-key.pem")), 0o600)
	code, _, msg = runCLI(t, "", "render", file, "-o", filepath.Join(t.TempDir(), "o"), "--pki", dir)
	check("mismatched pair", code, msg, "ca-key.pem does not belong to")
	// verify with the CA key offline reads what it needs.
	os.Remove(dir + "/ca-key.pem")
	pastCA(t, other, time.Now().Add(-time.Hour), time.Now().Add(48*time.Hour))
	copyTree(t, other, dir)
	runCLI(t, "", "render", file, "-o", filepath.Join(t.TempDir(), "o"), "--pki", dir)
	os.Remove(dir + "/ca-key.pem")
	if _, err := verify.ClientTLS(dir); err != nil {
		t.Errorf("verify's TLS with the CA key offline: %v", err)
	}
	// A render that must issue asks for the key by name.
	grown := strings.Replace(mustRead(t, file), "nodes:\n", "nodes:\n  - {name: docker-04, ip: 192.168.101.114, roles: [docker], profile: flatcar}\n", 1)
	os.WriteFile(file, []byte(grown), 0o644)
	code, _, msg = runCLI(t, "", "render", file, "-o", filepath.Join(t.TempDir(), "o"), "--pki", dir)
	check("offline key", code, msg, "docker-04 (new node)", "Put the CA key at "+dir+"/ca-key.pem")
}

// Class 7: loading is strict and bounded: nothing hangs or reads without
// end, and every refusal names the file and what to do.
func TestStrictLoading(t *testing.T) {
	for name, tc := range map[string]struct {
		do   func(dir string)
		want string
	}{
		"FIFO ca.pem":      {func(d string) { os.Remove(d + "/ca.pem"); syscall.Mkfifo(d+"/ca.pem", 0o644) }, "ca.pem is not a regular file (a FIFO)"},
		"key is /dev/zero": {func(d string) { os.Remove(d + "/ca-key.pem"); os.Symlink("/dev/zero", d+"/ca-key.pem") }, "ca-key.pem is not a regular file (a device)"},
		"node key 0644":    {func(d string) { os.Chmod(d+"/nodes/etcd-02/key.pem", 0o644) }, "run `chmod 600 "},
		"client key 0640":  {func(d string) { os.Chmod(d+"/client/key.pem", 0o640) }, "client/key.pem holds a private key but is readable by group or others"},
		"ca.pem a folder":  {func(d string) { os.Remove(d + "/ca.pem"); os.Mkdir(d+"/ca.pem", 0o700) }, "ca.pem is a folder"},
		"pki a file":       {func(d string) { os.RemoveAll(d); os.WriteFile(d, []byte("x"), 0o644) }, "is a file: tls.dir (or --pki) names the folder"},
		"CA not yet valid": {func(d string) {
			pastCA(t, d, time.Now().Add(time.Hour), time.Now().Add(99*time.Hour))
			os.RemoveAll(d + "/../out") // made with the CA this one stands for
		}, "valid only from"},
		"a node's cert FIFO": {func(d string) {
			os.Remove(d + "/nodes/etcd-02/cert.pem")
			syscall.Mkfifo(d+"/nodes/etcd-02/cert.pem", 0o644)
		}, "cert.pem is not a regular file"},
	} {
		t.Run(name, func(t *testing.T) {
			file, dir, out := rendered(t)
			tc.do(dir)
			for _, args := range [][]string{{"render", file, "-o", out, "--pki", dir}, {"validate", file}} {
				if args[0] == "validate" && strings.Contains(name, "client") {
					continue // validate builds the nodes' configs only
				}
				done := make(chan string, 1)
				go func() { code, _, errOut := runCLI(t, "", args...); done <- fmt.Sprint(code, errOut) }()
				select {
				case got := <-done:
					if !strings.HasPrefix(got, "1") || !strings.Contains(got, tc.want) || strings.Contains(got, "no such file") {
						t.Errorf("%s: got %s, want exit 1 and %q", args[0], got, tc.want)
					}
				case <-time.After(30 * time.Second):
					t.Fatalf("%s hangs", args[0])
				}
			}
		})
	}
}

// What a stopped older swarmboot left is removed; a CA pair restored
// without client/ renders (the client is issued again).
func TestRepairsWhatIsSafe(t *testing.T) {
	file, dir, out := rendered(t)
	tmp := dir + "/nodes/etcd-01/.key.pem.tmp123456"
	os.WriteFile(tmp, []byte("-----BEGIN EC PRIVATE KEY-----\n"), 0o600)
	os.RemoveAll(dir + "/client")
	code, _, errOut := runCLI(t, "", "render", file, "-o", out, "--pki", dir)
	if code != ExitOK || !strings.Contains(errOut, "issued the certificate of operator client (missing)") {
		t.Errorf("render without client/: exit %d\n%s", code, errOut)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("%s is still there", tmp)
	}
	for _, f := range []string{"ca.pem", "cert.pem", "key.pem", "env"} {
		if _, err := os.Stat(filepath.Join(dir, "client", f)); err != nil {
			t.Error(err)
		}
	}
}

// Bounds: a validity of seconds, and more names than a certificate
// holds, are refused by validate at their line and column.
func TestCertificateBounds(t *testing.T) {
	file := secureDesc(t)
	base := mustRead(t, file)
	sans := make([]string, 15000)
	for i := range sans {
		sans[i] = fmt.Sprintf("n%d.example.com", i)
	}
	for name, tc := range map[string]struct{ add, want string }{
		"validity 2s":    {"tls: {validity: 2s, renew_before: 1s}\n", "cluster.yaml:9:17: error at $.tls.validity: 2s is too short"},
		"validity 4m59s": {"tls: {validity: 4m59s, renew_before: 1m}\n", "$.tls.validity: 4m59s is too short"},
		"15000 SANs":     {"tls: {sans: [" + strings.Join(sans, ", ") + "]}\n", "error at $.tls.sans: 15000 names"},
	} {
		desc := strings.Replace(base, "version: 1\n", "version: 1\n"+tc.add, 1)
		os.WriteFile(file, []byte(desc), 0o644)
		if code, _, errOut := runCLI(t, "", "validate", file); code != ExitInvalid || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d\n%.600s", name, code, errOut)
		}
	}
	os.WriteFile(file, []byte(strings.Replace(base, "version: 1\n", "version: 1\ntls: {validity: 5m, renew_before: 1m}\n", 1)), 0o644)
	if code, _, errOut := runCLI(t, "", "render", file, "-o", filepath.Join(t.TempDir(), "o")); code != ExitOK {
		t.Errorf("validity 5m: exit %d\n%s", code, errOut)
	}
}

// The etcd endpoints in client/env follow etcd.tls, the docker ones
// docker.tls, each on its own.
func TestClientEnvSchemes(t *testing.T) {
	for _, tc := range []struct{ docker, etcd bool }{{true, false}, {false, true}, {true, true}} {
		file := secureDesc(t)
		desc := strings.Replace(mustRead(t, file), "docker:\n", fmt.Sprintf("docker:\n  tls: %v\n", tc.docker), 1)
		desc = strings.Replace(desc, "etcd:\n", fmt.Sprintf("etcd:\n  tls: %v\n", tc.etcd), 1)
		os.WriteFile(file, []byte(desc), 0o644)
		if code, _, errOut := runCLI(t, "", "pki", "init", file); code != ExitOK {
			t.Fatalf("%+v: exit %d\n%s", tc, code, errOut)
		}
		env := mustRead(t, filepath.Join(filepath.Dir(file), "pki", "client", "env"))
		scheme := map[bool]string{true: "https://", false: "http://"}[tc.etcd]
		if !strings.Contains(env, "ETCDCTL_ENDPOINTS="+scheme+"192.168.101.101:2379,") || strings.Contains(env, "ETCDCTL_CACERT") != tc.etcd {
			t.Errorf("docker.tls %v, etcd.tls %v: etcd's part of client/env:\n%s", tc.docker, tc.etcd, env)
		}
		if strings.Contains(env, "DOCKER_TLS_VERIFY=1") != tc.docker {
			t.Errorf("docker.tls %v, etcd.tls %v: docker's part of client/env:\n%s", tc.docker, tc.etcd, env)
		}
	}
}

// pki status lists every certificate with its state and exits 1 when any
// needs action; --json says the same to scripts.
func TestPKIStatus(t *testing.T) {
	file, dir, _ := rendered(t)
	code, stdout, errOut := runCLI(t, "", "pki", "status", file)
	if code != ExitOK || !strings.Contains(stdout, "etcd-01      ok     ") || !strings.Contains(stdout, "all 8 certificates are in order") {
		t.Errorf("a fresh PKI: exit %d\n%s%s", code, stdout, errOut)
	}
	os.Remove(dir + "/ca-key.pem")
	os.Remove(dir + "/nodes/etcd-03/key.pem")
	os.Chmod(dir+"/nodes/docker-02/key.pem", 0o644)
	os.WriteFile(file, []byte(strings.Replace(mustRead(t, file), "192.168.101.102", "192.168.101.109", 1)), 0o644)
	code, stdout, _ = runCLI(t, "", "pki", "status", file, "--at", time.Now().AddDate(0, 11, 20).Format("2006-01-02"))
	for _, want := range []string{"CA           key offline", "etcd-02      SANs stale", "etcd-03      missing", "docker-01    renew soon", "docker-02    refused", "docker-02: " + dir + "/nodes/docker-02/key.pem holds a private key but is readable by group or others (mode 0644): run `chmod 600 ", "etcd-02: SANs changed: +192.168.101.109 -192.168.101.102", "need action"} {
		if code != ExitInvalid || !strings.Contains(stdout, want) {
			t.Errorf("status lacks %q: exit %d\n%s", want, code, stdout)
		}
	}
	code, stdout, _ = runCLI(t, "", "pki", "status", file, "--json", "--at", time.Now().AddDate(2, 0, 0).Format(time.RFC3339))
	var r struct {
		NeedsAction  bool `json:"needs_action"`
		Certificates []struct {
			Name, State string
			DaysLeft    int `json:"days_left"`
		}
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil || code != ExitInvalid || !r.NeedsAction || len(r.Certificates) != 8 ||
		r.Certificates[2].State != "expired" || r.Certificates[2].DaysLeft >= 0 {
		t.Errorf("--json two years on: exit %d, %v %+v\n%s", code, err, r, stdout)
	}
	for _, args := range [][]string{{"pki", "status", file, "--at", "soon"}, {"pki", "status", file, "--force"}, {"pki", "init", file, "--json"}} {
		if code, _, errOut := runCLI(t, "", args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want a usage error\n%s", args, code, errOut)
		}
	}
}

// asNobody is `swarmboot args...` run as the user nobody, from a copy of
// the test binary that user can execute.
func asNobody(t *testing.T, args ...string) (int, string) {
	t.Helper()
	exe, _ := os.Executable()
	bin := filepath.Join(t.TempDir(), "swarmboot")
	os.Chmod(filepath.Dir(bin), 0o755)
	if err := os.WriteFile(bin, []byte(mustRead(t, exe)), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := child(t, nil, args...)
	cmd.Path = bin
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	b, err := cmd.CombinedOutput()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), string(b)
}

// A user who may not read or write the PKI gets a sentence that names it
// and what to do; a read-only PKI still serves renders that store nothing.
func TestPKIOfAnotherUser(t *testing.T) {
	needRoot(t, "to run as the user nobody")
	file, dir, _ := rendered(t)
	base := filepath.Dir(file)
	for p := base; p != "/"; p = filepath.Dir(p) {
		os.Chmod(p, 0o755) // t.TempDir's folders are root's alone
	}
	out := filepath.Join(base, "nobody", "out") // the new tree is built beside it
	os.Mkdir(filepath.Dir(out), 0o755)
	os.Chown(filepath.Dir(out), 65534, 65534)
	code, msg := asNobody(t, "render", file, "-o", out)
	if code != ExitInvalid || !strings.Contains(msg, "permission denied ("+dir+" is owned by uid 0, mode 0700; this is uid 65534): run swarmboot as the PKI's owner") {
		t.Errorf("a PKI of root's: exit %d\n%s", code, msg)
	}
	// nobody's own PKI, read-only.
	filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error { return os.Chown(p, 65534, 65534) })
	os.Chmod(dir, 0o500)
	if code, msg := asNobody(t, "render", file, "-o", out); code != ExitOK {
		t.Errorf("a read-only PKI, nothing to store: exit %d\n%s", code, msg)
	}
	grown := strings.Replace(mustRead(t, file), "nodes:\n", "nodes:\n  - {name: docker-04, ip: 192.168.101.114, roles: [docker], profile: flatcar}\n", 1)
	os.WriteFile(file, []byte(grown), 0o644)
	code, msg = asNobody(t, "render", file, "-o", out)
	if code != ExitInvalid || !strings.Contains(msg, "cannot store 2 files in "+dir+": this user cannot write there") {
		t.Errorf("a read-only PKI, a node to issue: exit %d\n%s", code, msg)
	}
}
