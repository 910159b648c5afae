package pid1

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iscsiboot/iscsiboot/plan"
)

func TestParseCmdline(t *testing.T) {
	def := func(f func(c *Config)) Config {
		c := Config{ReadOnly: true, RootWait: DefaultRootWait}
		f(&c)
		return c
	}
	for _, tc := range []struct {
		name    string
		cmdline string
		want    Config
		errs    []string // parameters reported as bad
	}{
		{"empty", "", def(func(*Config) {}), nil},
		{"debian", "BOOT_IMAGE=/vmlinuz-6.1.0-9-amd64 root=UUID=0B1D2E3F-aaaa-bbbb-cccc-111122223333 ro quiet",
			def(func(c *Config) { c.Root = Source{UUID: "0b1d2e3f-aaaa-bbbb-cccc-111122223333"} }), nil},
		{"everything", `console=ttyS0 root=/dev/sda1 rootfstype=ext4 rootflags="data=journal,noatime" rw init=/lib/systemd/systemd rd.retry=90 rd.break rd.shell panic=-1`,
			def(func(c *Config) {
				c.Root = Source{Path: "/dev/sda1"}
				c.FSType = "ext4"
				c.Flags = "data=journal,noatime"
				c.ReadOnly = false
				c.Init = "/lib/systemd/systemd"
				c.RootWait = 90 * time.Second
				c.Break = BreakPrePivot
				c.Shell = true
				c.Panic = -1
			}), nil},
		{"label, later wins", "root=/dev/sda root=LABEL=rootfs rw ro rootwait=5 rd.break=pre-mount panic=10",
			def(func(c *Config) {
				c.Root = Source{Label: "rootfs"}
				c.RootWait = 5 * time.Second
				c.Break = BreakPreMount
				c.Panic = 10
			}), nil},
		{"bare rootwait stays bounded", "rootwait", def(func(*Config) {}), nil},
		{"dracut netroot", "root=iscsi:10.0.2.2::3260:1:iqn.2025-01.test:disk1", def(func(*Config) {}), nil},
		{"typos keep defaults", "root=sda1 rd.retry=ten rootdelay=-1 init=sbin/init rd.break=later panic=soon root=PARTUUID=1234",
			def(func(*Config) {}), []string{"root", "rd.retry", "rootdelay", "init", "rd.break", "panic", "root"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCmdline(tc.cmdline)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
			var bad []string
			for _, e := range unjoinErrs(err) {
				var pe *ParamError
				if !errors.As(e, &pe) {
					t.Fatalf("error %v is not a *ParamError", e)
				}
				if !strings.Contains(e.Error(), pe.Param+"=") {
					t.Errorf("error %q does not name its parameter", e)
				}
				bad = append(bad, pe.Param)
			}
			if diff := cmp.Diff(tc.errs, bad); diff != "" {
				t.Errorf("bad parameters (-want +got):\n%s", diff)
			}
		})
	}
}

func unjoinErrs(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestReadCmdline(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content string
		want          string
		err           error
	}{
		{"proc", "BOOT_IMAGE=/vmlinuz root=UUID=x ro quiet\n", "BOOT_IMAGE=/vmlinuz root=UUID=x ro quiet", nil},
		{"at the limit", strings.Repeat("a", MaxCmdline), strings.Repeat("a", MaxCmdline), nil},
		{"over the limit", strings.Repeat("a", MaxCmdline+1), "", errCmdlineTooLong},
	} {
		p := filepath.Join(dir, tc.name)
		if err := os.WriteFile(p, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := ReadCmdline(p)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("%s: got %d bytes, %v; want %d bytes, %v", tc.name, len(got), err, len(tc.want), tc.err)
		}
	}
	if _, err := ReadCmdline(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestReadCmdlineEndless: a "file" that never ends (a hostile or broken
// /proc) costs at most MaxCmdline+1 bytes, not all memory.
func TestReadCmdlineEndless(t *testing.T) {
	if _, err := ReadCmdline("/dev/zero"); !errors.Is(err, errCmdlineTooLong) {
		t.Errorf("ReadCmdline(/dev/zero) = %v, want %v", err, errCmdlineTooLong)
	}
}

func FuzzParseCmdline(f *testing.F) {
	f.Add(`root=UUID=abc ro rootflags="a b" rd.retry=3 panic=-1 init=/x rd.break=pre-mount`)
	f.Add(`"unterminated root=/dev/sda`)
	f.Fuzz(func(t *testing.T, s string) {
		c, _ := ParseCmdline(s)
		if c.RootWait < 0 || c.RootWait > 24*time.Hour {
			t.Errorf("root wait %v out of bounds", c.RootWait)
		}
		if c.Init != "" && !strings.HasPrefix(c.Init, "/") {
			t.Errorf("relative init %q accepted", c.Init)
		}
		if c.Root.Path != "" && (!strings.HasPrefix(c.Root.Path, "/dev/") || strings.Contains(c.Root.Path, "..")) {
			t.Errorf("root path %q accepted", c.Root.Path)
		}
		for _, a := range plan.SplitCmdline(s) {
			if a == "" {
				t.Errorf("empty parameter from %q", s)
			}
		}
	})
}
