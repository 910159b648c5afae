package qemutests

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iscsiboot/iscsiboot/internal/tgtd"
)

// benchImage is one image of BenchmarkImages: a builder with one login tool.
type benchImage struct {
	builder string
	theirs  bool // open-iscsi's tool (or dracut's own module), not ours
	tool    string
	initrd  string
	append  string
	netdev  string // QEMU's -netdev, when not the default slirp
	// toolFiles are the names of the tool's programs in the image.
	toolFiles []string

	built, gzip9 int64
	adds         ToolBytes
	rootInit     []time.Duration
	// failed is set when a yardstick's boot never reached the root's init: theirs failing is a result to
	// show (and not to wait for again), ours failing fails the benchmark.
	failed bool
}

// imageBootTimeout bounds one boot of BenchmarkImages: about 10-30 s each here, several times that on a
// host that other guests load.
const imageBootTimeout = 4 * time.Minute

// BenchmarkImages boots whole images side by side, on the same kernel, root disk and target: for each
// builder (initramfs-tools' mkinitramfs with open-iscsi's hook, dracut 059, u-root's mkuimage) the image
// with open-iscsi's tool (for dracut, its own iscsi module, which runs iscsid and iscsiadm) and with ours,
// built by the same code as the builder's test, and our own /init image beside a busybox + open-iscsi
// iscsistart image with the same modules. It reports each image's size as built and as one gzip -9 cpio,
// the bytes the login tool adds (its files and the shared libraries no other program of the image loads,
// gzip -9), and the median time from QEMU's start to the root's own init (host clock), with the ratios ours
// over theirs. u-root has no shell to run open-iscsi's iscsistart from, so it has no "theirs". The dracut
// images boot on a tap with the target on its address (dracut's iscsiadm logs in to the address SendTargets
// gives, which slirp's NAT hides). Run it with
// make bench (BENCH_N boots each, interleaved); BENCH_OUT receives images.txt and images-raw-marks.txt.
func BenchmarkImages(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()
	h := New(b)
	ours := h.GoBinary(ctx, "./cmd/iscsistart")
	dropin := h.GoBinary(ctx, "./cmd/iscsistart", "dropin") // what initramfs-tools' hook installs
	disk := h.RootDisk(ctx)
	srv := h.Target(ctx, 1, TargetIQN, disk.Path)
	port := srv.Port
	ipStatic := "ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off"
	netroot := fmt.Sprintf("netroot=iscsi:%s::%d::%s", HostAddr, port, TargetIQN)
	// udev in Debian's and dracut's images names the NIC ens3 unless told to keep the kernel's name.
	itoolsLine := "net.ifnames=0 " + ipStatic + " root=LABEL=iscsiroot"
	// dracut's iscsi module logs in to the portal SendTargets names, which behind slirp's NAT is tgtd's own
	// 127.0.0.1 ("iscsiadm: No records found" for 10.0.2.2): both dracut images boot on a tap in the test's
	// namespace instead, with the target on the tap's address, as on a real network.
	addTap(ctx, b)
	tapSrv := tgtd.Start(ctx, b, tgtd.WithAddress(tapHost))
	if err := tapSrv.NewDiskTarget(ctx, 1, TargetIQN, disk.Path); err != nil {
		b.Fatal(err)
	}
	dracutLine := fmt.Sprintf("net.ifnames=0 rd.shell=0 root=LABEL=iscsiroot netroot=iscsi:%s::%d::%s ip=%s::%s:255.255.255.0:iscsi-1:eth0:off rd.iscsi.initiator=%s",
		tapHost, tapSrv.Port, TargetIQN, tapGuest, tapHost, InitiatorIQN)
	static := fmt.Sprintf("ISCSI_INITIATOR=%s\nISCSI_TARGET_NAME=%s\nISCSI_TARGET_IP=%s\nISCSI_TARGET_PORT=%d\nISCSI_TARGET_GROUP=1\n",
		InitiatorIQN, TargetIQN, HostAddr, port)
	ref := ReferenceGuest(port)
	ref.Gzip = true

	images := []*benchImage{
		{builder: "initramfs-tools", theirs: true, tool: "open-iscsi iscsistart", append: itoolsLine, toolFiles: openISCSIPrograms,
			initrd: h.InitramfsTools(ctx, ItoolsImage{Static: static})},
		{builder: "initramfs-tools", tool: "iscsiboot drop-in", append: itoolsLine, toolFiles: []string{"iscsistart"},
			initrd: h.InitramfsTools(ctx, ItoolsImage{Static: static, Iscsistart: dropin})},
		{builder: "dracut 059", theirs: true, tool: "dracut iscsi (iscsid)", append: dracutLine, netdev: tapNetdev, toolFiles: openISCSIPrograms,
			initrd: h.DracutImage(ctx, "")},
		{builder: "dracut 059", tool: "95iscsiboot", append: dracutLine, netdev: tapNetdev, toolFiles: []string{"iscsistart"},
			initrd: h.DracutImage(ctx, ours)},
		// u-root's busybox: one binary holding our command, which is the image's /init.
		{builder: "u-root", tool: "iscsiboot as /init", append: ipStatic + " " + netroot, toolFiles: []string{"bb"},
			initrd: h.URoot(ctx, b, "uroot").Initrd},
		{builder: "own /init", theirs: true, tool: "busybox + iscsistart", toolFiles: openISCSIPrograms,
			initrd: h.Initramfs(ctx, ref)},
		{builder: "own /init", tool: "iscsiboot /init", append: ipStatic + " " + netroot, toolFiles: []string{"iscsistart"},
			initrd: ourInitramfs(ctx, b, h)},
	}
	for i, im := range images {
		if err := im.measure(ctx, filepath.Join(h.Dir, fmt.Sprintf("unpacked%d", i))); err != nil {
			b.Fatalf("%s, %s: %v", im.builder, im.tool, err)
		}
	}

	var raw strings.Builder
	for i := 0; i < b.N; i++ {
		for j, im := range images {
			if im.failed {
				continue
			}
			vm := h.Boot(ctx, BootOptions{Name: fmt.Sprintf("image%d-%d", j, i), Initrd: im.initrd, Append: im.append,
				NetdevSpec: im.netdev, Timeout: imageBootTimeout})
			m, err := rootInitMark(ctx, vm, disk.Marker)
			if err != nil && !im.theirs {
				b.Fatalf("%s, %s: %v; console:\n%s", im.builder, im.tool, err, consoleText(vm))
			}
			if err != nil {
				b.Logf("%s, %s: %v; console:\n%s", im.builder, im.tool, err, consoleText(vm))
				im.failed = true
				fmt.Fprintf(&raw, "%s, %s, run %d: failed: %v\n", im.builder, im.tool, i, err)
				continue
			}
			im.rootInit = append(im.rootInit, m.Host)
			fmt.Fprintf(&raw, "%s, %s, run %d:\n%s", im.builder, im.tool, i, FormatMarks(vm.Marks()))
		}
	}

	tab := imagesTable(images, b.N)
	b.Logf("\n%s", tab)
	if out := os.Getenv("BENCH_OUT"); out != "" {
		os.MkdirAll(out, 0o755)
		os.WriteFile(filepath.Join(out, "images.txt"), []byte(tab), 0o644)
		os.WriteFile(filepath.Join(out, "images-raw-marks.txt"), []byte(raw.String()), 0o644)
	}
	theirs, mine := images[len(images)-2], images[len(images)-1]
	if len(theirs.rootInit) > 0 {
		b.ReportMetric(median(mine.rootInit).Seconds()/median(theirs.rootInit).Seconds(), "init-image-boot-ratio")
	}
	b.ReportMetric(float64(mine.gzip9)/float64(theirs.gzip9), "init-image-size-ratio")
}

// rootInitMark waits until vm prints marker and powers off, and returns the mark of the root's own init.
func rootInitMark(ctx context.Context, vm *VM, marker string) (Mark, error) {
	_, err := vm.WaitFor(ctx, marker)
	if err == nil {
		err = vm.Wait(ctx)
	}
	m, ok := vm.Mark(StepRootInit)
	if err == nil && !ok {
		err = fmt.Errorf("no %q mark", StepRootInit)
	}
	return m, err
}

// measure unpacks the image into dir and counts its sizes and what its login tool adds.
func (im *benchImage) measure(ctx context.Context, dir string) error {
	fi, err := os.Stat(im.initrd)
	if err != nil {
		return err
	}
	im.built = fi.Size()
	u, err := UnpackImage(ctx, im.initrd, dir)
	if err != nil {
		return err
	}
	if im.gzip9, err = u.Gzip9Size(ctx); err != nil {
		return err
	}
	im.adds, err = u.ToolBytes(ctx, im.toolFiles...)
	return err
}

// imagesTable renders BenchmarkImages' results: a row per image, a ratio row after each builder's pair,
// the goal of issue 16, and the files each tool adds.
func imagesTable(images []*benchImage, n int) string {
	var t strings.Builder
	fmt.Fprintf(&t, "whole images, QEMU TCG, PVH kernel, same root disk and tgtd target; median of %d boots each\n", n)
	fmt.Fprintf(&t, "%-40s %11s %11s %11s %11s %10s\n", "builder: login tool", "built", "gzip -9", "tool adds", "(raw)", "start->")
	fmt.Fprintf(&t, "%-40s %11s %11s %11s %11s %10s\n", "", "bytes", "bytes", "gzip -9", "bytes", "root init")
	r := func(a, c float64) string { return fmt.Sprintf("%.2f", a/c) }
	var prev *benchImage
	for _, im := range images {
		boot := "no boot"
		if len(im.rootInit) > 0 {
			boot = fmt.Sprintf("%.3fs", median(im.rootInit).Seconds())
		}
		fmt.Fprintf(&t, "%-40s %11d %11d %11d %11d %10s\n", im.builder+": "+im.tool, im.built, im.gzip9,
			im.adds.Gzip9, im.adds.Raw, boot)
		if prev != nil && prev.theirs && !im.theirs && prev.builder == im.builder {
			bootRatio := "n/a"
			if len(prev.rootInit) > 0 && len(im.rootInit) > 0 {
				bootRatio = r(median(im.rootInit).Seconds(), median(prev.rootInit).Seconds())
			}
			fmt.Fprintf(&t, "%-40s %11s %11s %11s %11s %10s\n", "  ratio ours/theirs", r(float64(im.built), float64(prev.built)),
				r(float64(im.gzip9), float64(prev.gzip9)), r(float64(im.adds.Gzip9), float64(prev.adds.Gzip9)),
				r(float64(im.adds.Raw), float64(prev.adds.Raw)), bootRatio)
		}
		prev = im
	}
	for _, im := range images {
		if im.failed {
			fmt.Fprintf(&t, "%s: a boot did not reach the root's init within %v, and was not tried again (console in bench.log)\n",
				im.builder+": "+im.tool, imageBootTimeout)
		}
	}
	theirs, mine := images[len(images)-2], images[len(images)-1]
	if len(theirs.rootInit) > 0 {
		ratio := median(mine.rootInit).Seconds() / median(theirs.rootInit).Seconds()
		goal := "yes"
		if ratio > 0.7 {
			goal = "NO"
		}
		fmt.Fprintf(&t, "goal (issue 16): QEMU start -> root init, our /init <= 0.7 x busybox + iscsistart: %.2f, %s (one vCPU; BenchmarkInitImage has two too)\n", ratio, goal)
	}
	fmt.Fprintf(&t, "what each tool adds (its programs, and the libraries no other program of the image loads):\n")
	for _, im := range images {
		fmt.Fprintf(&t, "  %s: %s\n", im.builder+": "+im.tool, strings.Join(im.adds.Files, " "))
	}
	return t.String()
}
