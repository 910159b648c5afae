package initramfs

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iscsiboot/iscsiboot/internal/modlist"

	"github.com/google/go-cmp/cmp"
)

const testKver = "6.1.0-99-amd64"

// labModulesDep is the part of a Debian 6.1 modules.dep the lab boots with
// (LAB.md, gotcha 3), with its hyphenated file names.
const labModulesDep = `kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/virtio/virtio_pci_modern_dev.ko:
kernel/drivers/virtio/virtio_pci_legacy_dev.ko:
kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/net/core/failover.ko:
kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko
kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/scsi/scsi_common.ko:
kernel/drivers/scsi/scsi_mod.ko: kernel/drivers/scsi/scsi_common.ko
kernel/crypto/crct10dif_common.ko:
kernel/lib/crc-t10dif.ko: kernel/crypto/crct10dif_common.ko
kernel/lib/crc64.ko:
kernel/lib/crc64-rocksoft.ko: kernel/lib/crc64.ko
kernel/block/t10-pi.ko: kernel/lib/crc64-rocksoft.ko kernel/lib/crc-t10dif.ko kernel/crypto/crct10dif_common.ko kernel/lib/crc64.ko
kernel/drivers/scsi/sd_mod.ko: kernel/block/t10-pi.ko kernel/lib/crc64-rocksoft.ko kernel/lib/crc-t10dif.ko kernel/crypto/crct10dif_common.ko kernel/lib/crc64.ko kernel/drivers/scsi/scsi_mod.ko kernel/drivers/scsi/scsi_common.ko
kernel/crypto/crc32c_generic.ko:
kernel/arch/x86/crypto/crc32c-intel.ko:
kernel/drivers/scsi/scsi_transport_iscsi.ko: kernel/drivers/scsi/scsi_mod.ko kernel/drivers/scsi/scsi_common.ko
kernel/drivers/scsi/libiscsi.ko: kernel/drivers/scsi/scsi_transport_iscsi.ko kernel/drivers/scsi/scsi_mod.ko kernel/drivers/scsi/scsi_common.ko
kernel/drivers/scsi/libiscsi_tcp.ko: kernel/drivers/scsi/libiscsi.ko kernel/drivers/scsi/scsi_transport_iscsi.ko kernel/drivers/scsi/scsi_mod.ko kernel/drivers/scsi/scsi_common.ko
kernel/drivers/scsi/iscsi_tcp.ko: kernel/drivers/scsi/libiscsi_tcp.ko kernel/drivers/scsi/libiscsi.ko kernel/drivers/scsi/scsi_transport_iscsi.ko kernel/drivers/scsi/scsi_mod.ko kernel/drivers/scsi/scsi_common.ko
kernel/drivers/scsi/broken.ko: kernel/drivers/scsi/absent.ko
kernel/fs/jbd2/jbd2.ko:
kernel/fs/ext4/ext4.ko: kernel/fs/jbd2/jbd2.ko
kernel/crypto/crc32_generic.ko:
kernel/drivers/infiniband/core/ib_core.ko:
kernel/drivers/infiniband/core/ib_uverbs.ko: kernel/drivers/infiniband/core/ib_core.ko
kernel/drivers/infiniband/sw/rxe/rdma_rxe.ko: kernel/drivers/infiniband/core/ib_uverbs.ko kernel/drivers/infiniband/core/ib_core.ko
`

// labSoftdep is in the form of Debian's modules.softdep: ext4 names its
// crc32c there, a word outside pre: means nothing, a missing one is skipped.
const labSoftdep = `# Soft dependencies extracted from modules themselves.
softdep ext4 pre: crypto-crc32c
softdep jbd2 pre: crypto-nonexistent
softdep iscsi_tcp gcm
`

const labModulesAlias = `# Aliases extracted from modules themselves.
alias crypto-crc32c crc32c_generic
alias crc32c crc32c_generic
alias crypto-crc32c crc32c-intel
alias crc32c crc32c-intel
alias crypto-crc32 crc32_generic
alias crc32 crc32_generic
alias pci:v00001AF4d00001000sv*sd*bc*sc*i* virtio_pci
alias virtio:d00000001v* virtio_net
`

// fakeKernel writes a kernel tree with the lab's modules, each file holding
// its own path, and returns its root.
func fakeKernel(t testing.TB, dep, alias, builtin string) string {
	t.Helper()
	root := t.TempDir()
	modDir := filepath.Join(root, "lib", "modules", testKver)
	for _, line := range strings.Split(dep, "\n") {
		file, _, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		writeFile(t, filepath.Join(modDir, file), []byte(file))
	}
	writeFile(t, filepath.Join(modDir, "modules.dep"), []byte(dep))
	writeFile(t, filepath.Join(modDir, "modules.alias"), []byte(alias))
	writeFile(t, filepath.Join(modDir, "modules.builtin"), []byte(builtin))
	writeFile(t, filepath.Join(modDir, "modules.softdep"), []byte(labSoftdep))
	return root
}

func writeFile(t testing.TB, name string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestAddModulesOrder(t *testing.T) {
	kdir := fakeKernel(t, labModulesDep, labModulesAlias, "kernel/drivers/block/loop.ko\n")
	for _, tc := range []struct {
		name  string
		names []string
		want  []string
	}{
		{
			name:  "lab set, dependencies first, crc32c before iscsi_tcp",
			names: []string{"virtio_net", "virtio_pci", "sd_mod", "iscsi_tcp"},
			want: []string{
				"virtio_ring", "virtio", "failover", "net_failover",
				"virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio_pci", "virtio_net",
				"scsi_common", "scsi_mod", "crc64", "crct10dif_common", "crc_t10dif", "crc64_rocksoft", "t10_pi", "sd_mod",
				"scsi_transport_iscsi", "libiscsi", "libiscsi_tcp", "crc32c_generic", "iscsi_tcp",
			},
		},
		{
			// rdma_rxe allocates crc32 when a device is added, and nothing says so
			name:  "crc32 before rdma_rxe",
			names: []string{"rdma_rxe"},
			want:  []string{"ib_core", "ib_uverbs", "crc32_generic", "rdma_rxe"},
		},
		{
			// README's command names virtio_net alone; its device appears only through virtio_pci
			name:  "the bus driver a NIC needs",
			names: []string{"virtio_net"},
			want: []string{"virtio_ring", "virtio", "failover", "net_failover",
				"virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio_pci", "virtio_net"},
		},
		{
			name:  "hyphens and underscores are one",
			names: []string{"crc_t10dif", "t10-pi"},
			want:  []string{"crct10dif_common", "crc_t10dif", "crc64", "crc64_rocksoft", "t10_pi"},
		},
		{
			name:  "alias prefers the generic module",
			names: []string{"crc32c"},
			want:  []string{"crc32c_generic"},
		},
		{
			name:  "built-in modules are skipped",
			names: []string{"loop", "scsi_common"},
			want:  []string{"scsi_common"},
		},
		{
			name:  "soft dependencies first",
			names: []string{"ext4"},
			want:  []string{"jbd2", "crc32c_generic", "ext4"},
		},
		{
			name:  "each module once",
			names: []string{"scsi_mod", "scsi_common", "scsi-mod"},
			want:  []string{"scsi_common", "scsi_mod"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := New(&bytes.Buffer{})
			got, err := b.AddModules(kdir, testKver, tc.names...)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("load order (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAddModulesImage(t *testing.T) {
	kdir := fakeKernel(t, labModulesDep, labModulesAlias, "")
	var out bytes.Buffer
	b := New(&out)
	if _, err := b.AddModules(kdir, testKver, "iscsi_tcp"); err != nil {
		t.Fatal(err)
	}
	// A second call shares scsi_mod and scsi_common; they stay listed once.
	if _, err := b.AddModules(kdir, testKver, "sd_mod"); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	files := make(map[string]string)
	for _, f := range readArchive(t, gunzip(t, out.Bytes())) {
		files["/"+f.Name] = f.Data
	}
	mods, err := modlist.Parse([]byte(files[ModuleListPath]))
	if err != nil {
		t.Fatalf("module list: %v", err)
	}
	var got []string
	for _, m := range mods {
		got = append(got, strings.TrimPrefix(m.Path, "/lib/modules/"+testKver+"/"))
		if files[m.Path] == "" {
			t.Errorf("%s is listed but not in the image", m.Path)
		}
	}
	want := []string{
		"kernel/drivers/scsi/scsi_common.ko", "kernel/drivers/scsi/scsi_mod.ko",
		"kernel/drivers/scsi/scsi_transport_iscsi.ko", "kernel/drivers/scsi/libiscsi.ko",
		"kernel/drivers/scsi/libiscsi_tcp.ko", "kernel/crypto/crc32c_generic.ko", "kernel/drivers/scsi/iscsi_tcp.ko",
		"kernel/lib/crc64.ko", "kernel/crypto/crct10dif_common.ko", "kernel/lib/crc-t10dif.ko",
		"kernel/lib/crc64-rocksoft.ko", "kernel/block/t10-pi.ko", "kernel/drivers/scsi/sd_mod.ko",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("module list (-want +got):\n%s", diff)
	}
	// What each module waits for: what modules.dep and the softdeps say,
	// and nothing more, so that the two stacks load side by side.
	short := func(p string) string { return strings.TrimSuffix(path.Base(p), ".ko") }
	gotAfter := make(map[string][]string)
	for _, m := range mods {
		for _, a := range m.After {
			gotAfter[short(m.Path)] = append(gotAfter[short(m.Path)], short(a))
		}
	}
	wantAfter := map[string][]string{
		"scsi_mod":             {"scsi_common"},
		"scsi_transport_iscsi": {"scsi_common", "scsi_mod"},
		"libiscsi":             {"scsi_common", "scsi_mod", "scsi_transport_iscsi"},
		"libiscsi_tcp":         {"scsi_common", "scsi_mod", "scsi_transport_iscsi", "libiscsi"},
		"iscsi_tcp":            {"scsi_common", "scsi_mod", "scsi_transport_iscsi", "libiscsi", "libiscsi_tcp", "crc32c_generic"},
		"crc-t10dif":           {"crct10dif_common"},
		"crc64-rocksoft":       {"crc64"},
		"t10-pi":               {"crc64", "crct10dif_common", "crc-t10dif", "crc64-rocksoft"},
		"sd_mod":               {"scsi_common", "scsi_mod", "crc64", "crct10dif_common", "crc-t10dif", "crc64-rocksoft", "t10-pi"},
	}
	if diff := cmp.Diff(wantAfter, gotAfter); diff != "" {
		t.Errorf("#@after lines (-want +got):\n%s", diff)
	}
	if got := files["/lib/modules/"+testKver+"/kernel/lib/crc-t10dif.ko"]; got != "kernel/lib/crc-t10dif.ko" {
		t.Errorf("crc-t10dif.ko holds %q, want the source file's contents", got)
	}
}

func TestAddModulesErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		dep     string
		alias   string
		modules []string
		want    error
		wantMsg string
	}{
		{name: "unknown module", dep: labModulesDep, modules: []string{"virtio_nte"},
			want: ErrModuleNotFound, wantMsg: "module virtio_nte: module not found"},
		{name: "missing dependency", dep: labModulesDep, modules: []string{"broken"},
			want: ErrModuleNotFound, wantMsg: "module absent (needed by broken)"},
		{name: "iscsi_tcp without any crc32c", dep: "kernel/drivers/scsi/iscsi_tcp.ko:\n", modules: []string{"iscsi_tcp"},
			want: ErrModuleNotFound, wantMsg: "module crc32c (needed by iscsi_tcp)"},
		{name: "cycle", dep: "a.ko: b.ko\nb.ko: a.ko\n", modules: []string{"a"}, want: errDepCycle},
		{name: "path out of the tree", dep: "../../../etc/shadow.ko:\n", modules: []string{"shadow"}, want: errBadDepLine},
		{name: "line without colon", dep: "kernel/a.ko kernel/b.ko\n", modules: []string{"a"}, want: errBadDepLine,
			wantMsg: "modules.dep line 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kdir := t.TempDir()
			writeFile(t, filepath.Join(kdir, "lib/modules", testKver, "modules.dep"), []byte(tc.dep))
			_, err := New(&bytes.Buffer{}).AddModules(kdir, testKver, tc.modules...)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not say %q", err, tc.wantMsg)
			}
		})
	}
}

func TestAddModulesNoDepmod(t *testing.T) {
	_, err := New(&bytes.Buffer{}).AddModules(t.TempDir(), testKver, "sd_mod")
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "depmod -b") {
		t.Errorf("got %v, want a not-exist error that says to run depmod -b", err)
	}
}

func TestAddModulesCompressed(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("ELF module"))
	zw.Close()
	dep := "kernel/a.ko.gz:\nkernel/b.ko.xz: kernel/a.ko.gz\nkernel/c.ko.zst:\n"
	for _, tc := range []struct {
		name    string
		config  string // boot/config-KVER, "" for none
		modules []string
		want    error
		wantIn  []string // image paths expected
	}{
		{name: "gzip is decompressed", modules: []string{"a"}, wantIn: []string{"kernel/a.ko"}},
		{name: "xz kept when the config is unknown", modules: []string{"b"}, wantIn: []string{"kernel/a.ko", "kernel/b.ko.xz"}},
		{name: "xz kept when the kernel decompresses xz", config: "CONFIG_MODULE_DECOMPRESS=y\nCONFIG_MODULE_COMPRESS_XZ=y\n",
			modules: []string{"b"}, wantIn: []string{"kernel/a.ko", "kernel/b.ko.xz"}},
		{name: "zstd refused when the kernel decompresses xz", config: "CONFIG_MODULE_DECOMPRESS=y\nCONFIG_MODULE_COMPRESS_XZ=y\n",
			modules: []string{"c"}, want: errNoDecompress},
		{name: "xz refused without in-kernel decompression", config: "# CONFIG_MODULE_DECOMPRESS is not set\nCONFIG_MODULE_COMPRESS_XZ=y\n",
			modules: []string{"b"}, want: errNoDecompress},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kdir := t.TempDir()
			modDir := filepath.Join(kdir, "lib/modules", testKver)
			writeFile(t, filepath.Join(modDir, "modules.dep"), []byte(dep))
			writeFile(t, filepath.Join(modDir, "kernel/a.ko.gz"), gz.Bytes())
			writeFile(t, filepath.Join(modDir, "kernel/b.ko.xz"), []byte("xz"))
			writeFile(t, filepath.Join(modDir, "kernel/c.ko.zst"), []byte("zst"))
			if tc.config != "" {
				writeFile(t, filepath.Join(kdir, "boot", "config-"+testKver), []byte(tc.config))
			}
			var out bytes.Buffer
			b := New(&out, Uncompressed())
			_, err := b.AddModules(kdir, testKver, tc.modules...)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if err != nil {
				if !strings.Contains(err.Error(), "kernel/"+tc.modules[0]+".ko") {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			files := make(map[string]string)
			for _, f := range readArchive(t, out.Bytes()) {
				files[f.Name] = f.Data
			}
			for _, p := range tc.wantIn {
				if _, ok := files["lib/modules/"+testKver+"/"+p]; !ok {
					t.Errorf("%s missing from the image", p)
				}
			}
			if got, ok := files["lib/modules/"+testKver+"/kernel/a.ko"]; ok && got != "ELF module" {
				t.Errorf("a.ko holds %q, want the decompressed module", got)
			}
		})
	}
}

func TestModulesDirUsrLib(t *testing.T) {
	kdir := t.TempDir()
	writeFile(t, filepath.Join(kdir, "usr/lib/modules", testKver, "modules.dep"), nil)
	got, err := ModulesDir(kdir, testKver)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(kdir, "usr/lib/modules", testKver); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if _, err := ModulesDir(kdir, "../x"); !errors.Is(err, errBadPath) {
		t.Errorf("kernel version ../x: got %v, want %v", err, errBadPath)
	}
}

func FuzzModulesDep(f *testing.F) {
	f.Add([]byte(labModulesDep), []byte(labModulesAlias), "iscsi_tcp")
	f.Add([]byte("a.ko: b.ko\nb.ko: a.ko\n"), []byte(""), "a")
	f.Add([]byte("a.ko:\n"), []byte("alias x a\nalias x b_generic\n"), "x")
	f.Fuzz(func(t *testing.T, dep, alias []byte, name string) {
		x := newDepIndex()
		if err := x.parseModulesDep(dep); err != nil {
			return
		}
		x.parseAliases(alias)
		x.parseBuiltin(alias)
		x.parseSoftdeps(alias)
		order, err := x.closure([]string{name})
		if err != nil {
			return
		}
		// Every module comes after all its dependencies.
		pos := make(map[string]int)
		for i, m := range order {
			pos[m] = i
		}
		for i, m := range order {
			for _, d := range x.deps[m] {
				if j, ok := pos[d]; ok && j > i {
					t.Errorf("%s loads before its dependency %s: %v", m, d, order)
				}
			}
		}
	})
}
