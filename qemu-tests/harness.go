package qemutests

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/iscsiboot/iscsiboot/internal/nstest"
	"github.com/iscsiboot/iscsiboot/internal/tgtd"
)

// envLogRoot is where the logs of failed tests are kept; Main defaults it to
// $TMPDIR/iscsiboot-qemu-tests-<uid>.
const envLogRoot = "ISCSIBOOT_QEMU_LOGS"

// kernel is the cached kernel TestMain resolved; set once, read by every test.
var (
	kernelOnce sync.Once
	kernel     Kernel
	kernelErr  error
)

// Main is the package's TestMain: it makes sure the kernel is cached (downloading it needs the network,
// which the namespaces lack), then runs the tests in private namespaces.
func Main(m *testing.M) {
	if !nstest.Inside() {
		k, err := resolveKernel()
		if err != nil {
			fmt.Fprintf(os.Stderr, "qemutests: %v\n", err)
			os.Exit(1)
		}
		os.Setenv(envKernelDir, k.Dir)
		// Named by the real uid, which the namespaces hide: users sharing /tmp must not share the directory.
		if os.Getenv(envLogRoot) == "" {
			os.Setenv(envLogRoot, filepath.Join(os.TempDir(), fmt.Sprintf("iscsiboot-qemu-tests-%d", os.Getuid())))
		}
	}
	nstest.Main(m)
}

// Harness is one scenario's rig: the kernel, a tgtd, a log directory. It belongs to one test and is not
// safe for use by several goroutines.
type Harness struct {
	Kernel Kernel
	// Dir holds the test's images; it is removed with the test.
	Dir string
	// LogDir holds the VM consoles; it is kept, and its path printed, when the test fails (tgtd prints
	// its own log into the test output then).
	LogDir string

	t      testing.TB
	tgt    *tgtd.Server
	boots  int // names default VM logs
	images int // names initramfs images
}

// New returns a harness for t. It fails t outside the namespaces of Main.
func New(t testing.TB) *Harness {
	t.Helper()
	nstest.Require(t)
	kernelOnce.Do(func() { kernel, kernelErr = kernelFromDir(os.Getenv(envKernelDir)) })
	if kernelErr != nil {
		t.Fatalf("qemutests: %v", kernelErr)
	}
	root := os.Getenv(envLogRoot)
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatalf("log root: %v", err)
	}
	logDir, err := os.MkdirTemp(root, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())+".")
	if err != nil {
		t.Fatalf("log dir: %v", err)
	}
	h := &Harness{Kernel: kernel, Dir: t.TempDir(), LogDir: logDir, t: t}
	// Registered first, so it runs last: after VMs and tgtd have stopped and written their logs.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs kept in %s", logDir)
			return
		}
		os.RemoveAll(logDir)
	})
	return h
}

// Tgtd returns the harness's tgtd, starting it on first use.
func (h *Harness) Tgtd(ctx context.Context) *tgtd.Server {
	h.t.Helper()
	if h.tgt == nil {
		h.tgt = tgtd.Start(ctx, h.t)
	}
	return h.tgt
}

// Target creates target tid named iqn with disk as LUN 1, open to every initiator, and returns the tgtd
// serving it; the guest reaches it at 10.0.2.2, port srv.Port.
func (h *Harness) Target(ctx context.Context, tid int, iqn, disk string) *tgtd.Server {
	h.t.Helper()
	srv := h.Tgtd(ctx)
	if err := srv.NewDiskTarget(ctx, tid, iqn, disk); err != nil {
		h.t.Fatalf("target: %v", err)
	}
	return srv
}
