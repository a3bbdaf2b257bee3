package boottest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Image is a built VM image (see image/build.sh).
type Image struct {
	Dir    string // holds rootfs.qcow2, vmlinuz, initrd.img
	Kernel string
	Initrd string
	Disk   string
}

// NewImage names the files of the image in dir.
func NewImage(dir string) Image {
	return Image{Dir: dir, Kernel: filepath.Join(dir, "vmlinuz"),
		Initrd: filepath.Join(dir, "initrd.img"), Disk: filepath.Join(dir, "rootfs.qcow2")}
}

// VM is one QEMU guest: TCG (KVM cannot be counted on here), direct kernel
// boot, a copy-on-write overlay over the shared image, one NIC on a tap in
// the test's namespace and no other network.
type VM struct {
	Name   string
	Index  int    // 1-based; picks the tap name and the MAC
	Dir    string // overlay, console and journal logs, QMP socket
	Image  Image
	Seed   string   // NoCloud seed or config drive ISO; "" for none
	Extra  []string // more QEMU arguments (e.g. -fw_cfg)
	Append string   // more kernel arguments
	MemMiB int
	// PredictableNames leaves udev's predictable NIC names on (ens3,
	// enp0s3); without it the kernel command line has net.ifnames=0 and
	// the NIC stays eth0.
	PredictableNames bool

	cmd     *exec.Cmd
	exited  chan struct{}
	Started time.Time // last power-on
	// bootOffset: sizes of the console and journal logs at the last
	// power-on; the logs are appended to across reboots.
	bootOffset map[string]int64
}

// Console is the serial console log (ttyS0: kernel and systemd status).
func (v *VM) Console() string { return filepath.Join(v.Dir, "console.log") }

// Journal is the journal as journald copies it to hvc0 (see image/build.sh).
func (v *VM) Journal() string { return filepath.Join(v.Dir, "journal.log") }

func (v *VM) qmp() string  { return filepath.Join(v.Dir, "qmp.sock") }
func (v *VM) tap() string  { return "tap" + strconv.Itoa(v.Index) }
func (v *VM) disk() string { return filepath.Join(v.Dir, "disk.qcow2") }

// Running reports whether QEMU is still up.
func (v *VM) Running() bool {
	if v.cmd == nil {
		return false
	}
	select {
	case <-v.exited:
		return false
	default:
		return true
	}
}

// Start powers the VM on (again, after a power-off: the overlay keeps the
// disk, so the second boot is a reboot).
func (v *VM) Start(ctx context.Context, ns *Netns) error {
	if v.Running() {
		return fmt.Errorf("%s: already running", v.Name)
	}
	if err := os.MkdirAll(v.Dir, 0o755); err != nil {
		return err
	}
	if _, err := os.Stat(v.disk()); os.IsNotExist(err) {
		out, err := exec.CommandContext(ctx, "qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2",
			"-b", v.Image.Disk, v.disk()).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: overlay: %v: %s", v.Name, err, out)
		}
		if err := ns.AddTap(ctx, v.tap()); err != nil {
			return err
		}
	}
	mem := v.MemMiB
	if mem == 0 {
		mem = 768
	}
	cmdline := "root=/dev/vda rw console=ttyS0"
	if !v.PredictableNames {
		cmdline += " net.ifnames=0"
	}
	args := []string{
		"-name", v.Name, "-nodefaults", "-no-user-config", "-display", "none",
		"-accel", "tcg", "-m", strconv.Itoa(mem), "-smp", "1",
		"-kernel", v.Image.Kernel, "-initrd", v.Image.Initrd,
		"-append", strings.TrimSpace(cmdline + " " + v.Append),
		"-drive", "file=" + v.disk() + ",if=virtio,format=qcow2",
		"-netdev", "tap,id=n0,ifname=" + v.tap() + ",script=no,downscript=no",
		// romfile=: no PXE option ROM, so ipxe-qemu is not needed.
		"-device", fmt.Sprintf("virtio-net-pci,netdev=n0,mac=52:54:00:77:00:%02x,romfile=", v.Index),
		"-chardev", "file,id=console,path=" + v.Console() + ",append=on",
		"-serial", "chardev:console",
		"-device", "virtio-serial-pci",
		"-chardev", "file,id=journal,path=" + v.Journal() + ",append=on",
		"-device", "virtconsole,chardev=journal",
		"-qmp", "unix:" + v.qmp() + ",server=on,wait=off",
	}
	if v.Seed != "" {
		args = append(args, "-drive", "file="+v.Seed+",if=virtio,format=raw,readonly=on")
	}
	args = append(args, v.Extra...)
	_ = os.Remove(v.qmp())
	v.bootOffset = map[string]int64{}
	for _, f := range []string{v.Console(), v.Journal()} {
		if fi, err := os.Stat(f); err == nil {
			v.bootOffset[f] = fi.Size()
		}
	}
	// Not bound to ctx: the VM outlives single steps; Kill stops it.
	cmd := ns.Command(context.Background(), "qemu-system-x86_64", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	logf, err := os.OpenFile(filepath.Join(v.Dir, "qemu.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("%s: starting qemu: %w", v.Name, err)
	}
	v.cmd, v.exited, v.Started = cmd, make(chan struct{}), time.Now()
	go func(exited chan struct{}) {
		_ = cmd.Wait()
		logf.Close()
		close(exited)
	}(v.exited)
	return nil
}

// Shutdown presses the ACPI power button and waits for the guest to power
// off; past the timeout it pulls the plug.
func (v *VM) Shutdown(timeout time.Duration) error {
	if !v.Running() {
		return nil
	}
	if err := qmpCommand(v.qmp(), "system_powerdown"); err != nil {
		v.Kill()
		return fmt.Errorf("%s: system_powerdown: %w", v.Name, err)
	}
	select {
	case <-v.exited:
		return nil
	case <-time.After(timeout):
		v.Kill()
		return fmt.Errorf("%s: no clean power-off within %s (killed)", v.Name, timeout)
	}
}

// PowerOff cuts the power at once, like pulling the plug.
func (v *VM) PowerOff() {
	if !v.Running() {
		return
	}
	if err := qmpCommand(v.qmp(), "quit"); err == nil {
		select {
		case <-v.exited:
			return
		case <-time.After(10 * time.Second):
		}
	}
	v.Kill()
}

// Kill ends the QEMU process this test started, by its PID.
func (v *VM) Kill() {
	if !v.Running() {
		return
	}
	_ = v.cmd.Process.Kill()
	<-v.exited
}

// LogSize is how much the log file (Console or Journal) holds now: a mark
// to read what comes after with LogSince.
func (v *VM) LogSize(file string) int64 {
	fi, err := os.Stat(file)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// LogSince returns what the log file got after the mark.
func (v *VM) LogSince(file string, mark int64) string {
	b, err := os.ReadFile(file)
	if err != nil || mark > int64(len(b)) {
		return ""
	}
	return string(b[mark:])
}

// ThisBoot returns what the log file (Console or Journal) got since the
// last power-on.
func (v *VM) ThisBoot(file string) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	if off := v.bootOffset[file]; off <= int64(len(b)) {
		b = b[off:]
	}
	return string(b)
}

// renamedNIC is the kernel's line when udev gives a NIC its predictable
// name, after the NIC's driver and bus device: "virtio_net virtio0 ens2:
// renamed from eth0". A veth Docker moves out of a container is renamed
// too, but has no bus device: "veth03272d5: renamed from eth0".
var renamedNIC = regexp.MustCompile(`[a-z0-9_]+ [A-Za-z0-9:._-]+ ([A-Za-z0-9_.-]+): renamed from eth[0-9]+`)

// RenamedNICs returns, in the order the log says them, the names udev gave
// the VM's NICs in this log (none with net.ifnames=0).
func RenamedNICs(log string) []string {
	var names []string
	for _, m := range renamedNIC.FindAllStringSubmatch(log, -1) {
		if !slices.Contains(names, m[1]) {
			names = append(names, m[1])
		}
	}
	return names
}

// NICNames returns the names udev gave the VM's NICs since its last
// power-on, as its console and journal say.
func (v *VM) NICNames() []string {
	return RenamedNICs(v.ThisBoot(v.Console()) + "\n" + v.ThisBoot(v.Journal()))
}
