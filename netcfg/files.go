package netcfg

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/iscsiboot/iscsiboot/internal/esc"
)

// WriteResolvConf writes name servers and search domains in resolv.conf(5) format to path, replacing the
// file in one rename so a reader never sees half of it. Duplicates are dropped, order is kept.
func WriteResolvConf(path string, dns []netip.Addr, search []string) error {
	for _, d := range search {
		if !esc.Printable(d) {
			return fmt.Errorf("write resolv.conf: search %s: %w", esc.Clip(d, 80), errNotPrintable)
		}
	}
	if err := writeFileAtomic(path, []byte(resolvConf(dns, search)), 0o644); err != nil {
		return fmt.Errorf("write resolv.conf: %w", err)
	}
	return nil
}

func resolvConf(dns []netip.Addr, search []string) string {
	var b strings.Builder
	b.WriteString("# written by iscsiboot\n")
	if s := dedup(search); len(s) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(s, " "))
	}
	for _, a := range dedup(dns) {
		fmt.Fprintf(&b, "nameserver %s\n", a)
	}
	return b.String()
}

// WriteHandoff writes Debian's hand-off files for the boot interface r under root ("/" on a real boot):
// run/net-<dev>.conf (and run/net6-<dev>.conf when r has IPv6 addresses), which initramfs-tools' scripts and
// cloud-init read after switch_root, and run/initramfs/open-iscsi.interface, which names the interface the
// root disk is reached through, so open-iscsi's scripts leave it alone at shutdown. A value with a control
// byte writes no file at all (see WriteNetConf).
func WriteHandoff(root string, r Result) error {
	if err := WriteNetConf(root, r); err != nil {
		return err
	}
	p := filepath.Join(root, "run", "initramfs", "open-iscsi.interface")
	if err := writeFileAtomic(p, []byte(r.Name+"\n"), 0o644); err != nil {
		return fmt.Errorf("write open-iscsi.interface: %w", err)
	}
	return nil
}

// WriteNetConf writes run/net-<dev>.conf under root in the format of klibc ipconfig's dump_device_config
// (the keys it writes, in its order and quoting), and run/net6-<dev>.conf with the IPv6 keys
// initramfs-tools writes for ip6=, when r has an IPv6 address. The files are read line by line and sourced
// by sh, so a value with a control byte is refused, whatever checked it before: nothing is written.
func WriteNetConf(root string, r Result) error {
	if strings.ContainsAny(r.Name, "/\x00") || r.Name == "" || r.Name == "." || r.Name == ".." {
		return fmt.Errorf("write net conf: %w %q", errBadName, r.Name)
	}
	if err := checkFileValues(r); err != nil {
		return fmt.Errorf("write net conf: %w", err)
	}
	run := filepath.Join(root, "run")
	if v4 := netConf(r); v4 != "" {
		if err := writeFileAtomic(filepath.Join(run, "net-"+r.Name+".conf"), []byte(v4), 0o644); err != nil {
			return fmt.Errorf("write net conf: %w", err)
		}
	}
	if v6 := netConf6(r); v6 != "" {
		if err := writeFileAtomic(filepath.Join(run, "net6-"+r.Name+".conf"), []byte(v6), 0o644); err != nil {
			return fmt.Errorf("write net6 conf: %w", err)
		}
	}
	return nil
}

// checkFileValues refuses a Result whose strings, written to the hand-off files, hold a control byte.
func checkFileValues(r Result) error {
	vals := []struct{ key, v string }{{"DEVICE", r.Name}, {"HOSTNAME", r.Hostname}, {"DNSDOMAIN", r.Domain},
		{"ROOTPATH", r.RootPath}, {"filename", r.BootFile}}
	for _, s := range r.Search {
		vals = append(vals, struct{ key, v string }{"DOMAINSEARCH", s})
	}
	for _, kv := range vals {
		if !esc.Printable(kv.v) {
			return fmt.Errorf("%s %s: %w", kv.key, esc.Clip(kv.v, 80), errNotPrintable)
		}
	}
	return nil
}

// netConf renders klibc ipconfig's /run/net-<dev>.conf; "" when r has no IPv4 address. Unset addresses are
// written as 0.0.0.0 and unset strings as ”, as ipconfig does.
func netConf(r Result) string {
	var addr netip.Prefix
	for _, p := range r.Addresses {
		if p.Addr().Is4() {
			addr = p
			break
		}
	}
	if !addr.IsValid() {
		return ""
	}
	var dns4 []netip.Addr
	for _, a := range r.DNS {
		if a.Is4() {
			dns4 = append(dns4, a)
		}
	}
	proto := "none" // ipconfig's name for a static configuration
	if r.Method == MethodDHCP {
		proto = "dhcp"
	}
	var b strings.Builder
	kv := func(k, v string) { b.WriteString(k + "=" + shellQuote(v) + "\n") }
	kv("DEVICE", r.Name)
	kv("PROTO", proto)
	kv("IPV4ADDR", addr.Addr().String())
	kv("IPV4BROADCAST", ip4(broadcast(addr)))
	kv("IPV4NETMASK", ip4(netmask(addr.Bits())))
	kv("IPV4GATEWAY", ip4(r.Gateway))
	kv("IPV4DNS0", ip4(nth(dns4, 0)))
	kv("IPV4DNS1", ip4(nth(dns4, 1)))
	kv("HOSTNAME", r.Hostname)
	kv("DNSDOMAIN", r.Domain)
	kv("NISDOMAIN", "")
	kv("ROOTSERVER", ip4(r.ServerAddr))
	kv("ROOTPATH", r.RootPath)
	kv("filename", r.BootFile)
	kv("UPTIME", strconv.FormatInt(int64(r.Uptime.Seconds()), 10))
	kv("DHCPLEASETIME", strconv.FormatInt(int64(r.LeaseTime.Seconds()), 10))
	kv("DOMAINSEARCH", strings.Join(r.Search, " "))
	return b.String()
}

// netConf6 renders /run/net6-<dev>.conf as initramfs-tools writes it for ip6= (the keys cloud-init's
// klibc reader takes: DEVICE6, IPV6PROTO, IPV6ADDR, IPV6NETMASK, IPV6GATEWAY, IPV6DNS0/1, DOMAINSEARCH);
// "" when r has no IPv6 address.
func netConf6(r Result) string {
	var addr netip.Prefix
	for _, p := range r.Addresses {
		if p.Addr().Is6() && !p.Addr().IsLinkLocalUnicast() {
			addr = p
			break
		}
	}
	if !addr.IsValid() {
		return ""
	}
	var dns6 []netip.Addr
	for _, a := range r.DNS {
		if a.Is6() {
			dns6 = append(dns6, a)
		}
	}
	proto := "none"
	switch r.Method {
	case MethodDHCP6:
		proto = "dhcp6"
	case MethodAuto6:
		proto = "auto6"
	}
	var b strings.Builder
	kv := func(k, v string) { b.WriteString(k + "=" + shellQuote(v) + "\n") }
	kv("DEVICE6", r.Name)
	kv("IPV6PROTO", proto)
	kv("IPV6ADDR", addr.Addr().String())
	kv("IPV6NETMASK", strconv.Itoa(addr.Bits()))
	if r.Gateway.Is6() {
		kv("IPV6GATEWAY", r.Gateway.String())
	}
	if a := nth(dns6, 0); a.IsValid() {
		kv("IPV6DNS0", a.String())
	}
	if a := nth(dns6, 1); a.IsValid() {
		kv("IPV6DNS1", a.String())
	}
	kv("DOMAINSEARCH", strings.Join(r.Search, " "))
	return b.String()
}

// shellQuote quotes like klibc's write_option: in single quotes, with ' and ! each closed, escaped and
// reopened ('\” and '\!'), so the file can be sourced by any sh.
func shellQuote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, c := range []byte(s) {
		if c == '\'' || c == '!' {
			b.WriteString(`'\` + string(c) + `'`)
			continue
		}
		b.WriteByte(c)
	}
	b.WriteByte('\'')
	return b.String()
}

// ip4 prints an IPv4 address, or 0.0.0.0 for none, as ipconfig prints INADDR_ANY.
func ip4(a netip.Addr) string {
	if !a.Is4() {
		return "0.0.0.0"
	}
	return a.String()
}

func nth(as []netip.Addr, i int) netip.Addr {
	if i < len(as) {
		return as[i]
	}
	return netip.Addr{}
}

// netmask turns an IPv4 prefix length into a dotted mask.
func netmask(bits int) netip.Addr {
	m := ^uint32(0) << (32 - bits)
	if bits == 0 {
		m = 0
	}
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)})
}

// broadcast is the all-ones host address of an IPv4 prefix.
func broadcast(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	m := netmask(p.Bits()).As4()
	for i := range a {
		a[i] |= ^m[i]
	}
	return netip.AddrFrom4(a)
}

func dedup[T comparable](in []T) []T {
	var out []T
	seen := make(map[T]bool)
	for _, v := range in {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// writeFileAtomic writes data to a temporary file next to path and renames it over path, creating the
// directory if needed.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // a no-op after a successful rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
