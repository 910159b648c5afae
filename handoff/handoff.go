package handoff

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/iscsiboot/iscsiboot/plan"

	"github.com/iscsiboot/iscsiboot/internal/esc"
)

// Where the hand-off files go, relative to the root they are written under
// ("/" on a real boot).
const (
	// NodeDB is open-iscsi's node database as Debian's iscsid and iscsiadm
	// 2.1.8 are built to read it (NODE_CONFIG_DIR; other distributions
	// build with /var/lib/iscsi/nodes).
	NodeDB = "etc/iscsi/nodes"
	// RunNodeDB holds the same records where they survive switch_root: the
	// initramfs's /etc is freed with it, its /run moves into the real
	// root. Our /init installs them from there into the real root's node
	// database (InstallNodeRecords).
	RunNodeDB = "run/iscsiboot/nodes"
)

// The initiator name files: open-iscsi's own, and the copy dracut leaves in
// /run for the real root.
var initiatorNameFiles = []string{"etc/iscsi/initiatorname.iscsi", "run/initiatorname.iscsi"}

var (
	errNoInitiator = errors.New("no initiator name to hand off")
	errRecordValue = errors.New("cannot be written in a node record")
	errControlByte = errors.New("holds a control byte or invalid UTF-8")
)

// WriteHandoff writes, under root, the files open-iscsi reads after
// switch_root: the initiator name (etc/iscsi/initiatorname.iscsi and
// run/initiatorname.iscsi, mode 0644) and a node record for each boot
// session (NodeRecord.WriteFiles). It writes what it can and returns every
// failure. Writing the same files again replaces them. An initiator name
// with a control byte is not written, whatever checked it before: the file
// is read line by line.
func WriteHandoff(root string, p *plan.Plan, records []NodeRecord) error {
	var errs []error
	switch {
	case p.Initiator == "":
		errs = append(errs, errNoInitiator)
	case !esc.Printable(p.Initiator):
		errs = append(errs, fmt.Errorf("initiator name %s: %w", esc.Clip(p.Initiator, 255), errControlByte))
	default:
		line := []byte("InitiatorName=" + p.Initiator + "\n")
		for _, f := range initiatorNameFiles {
			path := filepath.Join(root, f)
			if err := writeFileAtomic(path, line, 0o644, 0o755); err != nil {
				errs = append(errs, fmt.Errorf("write %s: %w", path, err))
			}
		}
	}
	for _, r := range records {
		errs = append(errs, r.WriteFiles(root))
	}
	return errors.Join(errs...)
}

// NodeRecord is a boot session as open-iscsi keeps it in its node database.
// iscsid, adopting a session it finds in sysfs at start (iscsid.c,
// sync_session), looks its record up by the session's target name, portal
// group tag, persistent address and port and iface name, and logs in again
// on the same session with the record's timers. Without a record it takes
// iscsid.conf's (Debian's: replacement_timeout 120, NOP-outs every 5 s),
// which undo the root-disk timers our login set. node.startup is onboot, so
// `iscsiadm -m node --logoutall=all` at shutdown leaves the session alone.
type NodeRecord struct {
	Target string
	TPGT   int
	// Portal is the session's persistent address and port.
	Portal plan.Portal
	// Iface is the open-iscsi iface record name, "default" for plain TCP.
	Iface     string
	Transport string
	// HWAddress and IPAddress are the offload host's (iface.hwaddress,
	// iface.ipaddress) for a session an HBA made: open-iscsi's firmware
	// mode names the iface after them (HBAIfaceName).
	HWAddress, IPAddress string
	Auth                 plan.Auth
	// Params are open-iscsi record names and values (the plan's, over
	// DefaultParams); those a node record does not hold are left out.
	Params map[string]string
	// Conf are the node.* settings of the real root's iscsid.conf
	// (ReadIscsidConf), under Params and over open-iscsi's built-in
	// defaults: with them the record is what the root's own iscsiadm
	// would have written for the target, plus the boot's timers. The
	// record's identity, node.startup and CHAP settings are the boot
	// session's, whatever the file says.
	Conf map[string]string
}

// ReadIscsidConf returns the node.* settings of an iscsid.conf: "name =
// value" lines, comments (#) and other names skipped. A missing file is
// no settings.
func ReadIscsidConf(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	conf := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || !strings.HasPrefix(k, "node.") || strings.ContainsAny(k, " \t#") {
			continue
		}
		conf[k] = v
	}
	return conf, nil
}

// confKey tells whether a node record takes key from iscsid.conf.
func confKey(key string) bool {
	return key != "node.startup" && !strings.HasPrefix(key, "node.session.auth.")
}

// NewNodeRecord returns the record of the session with target t, whose
// persistent portal and portal group tag are those the kernel shows.
func NewNodeRecord(p *plan.Plan, t *plan.Target, portal plan.Portal, tpgt int) NodeRecord {
	params := plan.DefaultParams()
	for k, v := range p.Params {
		params[k] = v
	}
	return NodeRecord{Target: t.Name, TPGT: tpgt, Portal: portal, Iface: t.IfaceRecord(),
		Transport: cmp.Or(p.Transport, "tcp"), Auth: t.Auth, Params: params}
}

// HBAIfaceName is the iface record name open-iscsi's firmware mode gives
// an offload host (iface.c, iface_setup_from_boot_context):
// <transport>.<hwaddress>.<ipv4|ipv6>.<iface number>, the number 0 for the
// host's first.
func HBAIfaceName(transport, hwaddress, ipaddress string) string {
	family := "ipv4"
	if strings.Contains(ipaddress, ":") {
		family = "ipv6"
	}
	return fmt.Sprintf("%s.%s.%s.0", transport, hwaddress, family)
}

// Path returns the record's file relative to a node database directory:
// <target>/<address>,<port>,<tpgt>/<iface>, the name iscsid looks up
// (idbm.c, idbm_rec_read).
func (r NodeRecord) Path() string {
	return filepath.Join(r.Target, fmt.Sprintf("%s,%d,%d", r.Portal.Address, r.Portal.Port, r.TPGT), r.Iface)
}

// MarshalText renders the record as iscsiadm writes one: "key = value"
// lines between BEGIN and END RECORD comments. It holds the CHAP
// passwords: the file is for root only. A value with a line break, or a
// name that is no single path component, is refused.
func (r NodeRecord) MarshalText() ([]byte, error) {
	for _, n := range []struct{ what, v string }{{"target name", r.Target}, {"iface name", r.Iface}, {"address", r.Portal.Address}} {
		if n.v == "" || n.v == "." || n.v == ".." || strings.ContainsAny(n.v, "/\x00") {
			return nil, fmt.Errorf("node record: %s %q: %w", n.what, n.v, errRecordValue)
		}
	}
	fixed := map[string]string{
		"node.name":             r.Target,
		"node.tpgt":             strconv.Itoa(r.TPGT),
		"iface.iscsi_ifacename": r.Iface,
		"iface.transport_name":  cmp.Or(r.Transport, "tcp"),
		"node.conn[0].address":  r.Portal.Address,
		"node.conn[0].port":     strconv.Itoa(r.Portal.Port),
	}
	if r.IPAddress != "" {
		fixed["iface.ipaddress"] = r.IPAddress
	}
	var b strings.Builder
	b.WriteString("# BEGIN RECORD 2.1.8\n")
	put := func(k, v string) error {
		if strings.ContainsAny(v, "\n\r\x00") {
			return fmt.Errorf("node record: %s: value with a line break: %w", k, errRecordValue)
		}
		fmt.Fprintf(&b, "%s = %s\n", k, v)
		return nil
	}
	for _, kd := range plan.Settings {
		if kd.InAuth() {
			continue // written from Auth, after the method
		}
		v, ok := fixed[kd.Name]
		if !ok {
			v = kd.Record
			if cv, set := r.Conf[kd.Name]; set && cv != "" && confKey(kd.Name) {
				v = cv
			}
			if pv, set := r.Params[kd.Name]; set && pv != "" && !strings.HasPrefix(kd.Name, "node.session.auth.") {
				v = pv
			}
		}
		if kd.Name == "node.session.auth.authmethod" && r.Auth.Method == plan.AuthCHAP {
			v = plan.AuthCHAP
		}
		if v != "" || !strings.HasPrefix(kd.Name, "iface.") { // iscsiadm leaves an iface's unset values out
			if err := put(kd.Name, v); err != nil {
				return nil, err
			}
		}
		if kd.Name == "iface.ipaddress" && r.HWAddress != "" {
			// The offload host's MAC, which is no setting of the user's,
			// follows its address as in iscsiadm's records.
			if err := put("iface.hwaddress", r.HWAddress); err != nil {
				return nil, err
			}
		}
		if kd.Name != "node.session.auth.authmethod" || r.Auth.Method != plan.AuthCHAP {
			continue
		}
		// The CHAP keys follow the method, as iscsiadm orders them; the
		// reader derives the password lengths itself.
		chap := [][2]string{{"node.session.auth.username", r.Auth.Username}, {"node.session.auth.password", r.Auth.Password.Reveal()}}
		if r.Auth.UsernameIn != "" {
			chap = append(chap, [2]string{"node.session.auth.username_in", r.Auth.UsernameIn},
				[2]string{"node.session.auth.password_in", r.Auth.PasswordIn.Reveal()})
		}
		for _, kv := range chap {
			if err := put(kv[0], kv[1]); err != nil {
				return nil, err
			}
		}
	}
	b.WriteString("# END RECORD\n")
	return []byte(b.String()), nil
}

// WriteFiles writes the record under root in NodeDB and RunNodeDB: the
// file mode 0600 and the directories from nodes/ down 0700, as iscsiadm
// makes them, since the record may hold CHAP passwords.
func (r NodeRecord) WriteFiles(root string) error {
	text, err := r.MarshalText()
	if err != nil {
		return err
	}
	var errs []error
	for _, db := range []string{NodeDB, RunNodeDB} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(db)), 0o755); err != nil {
			errs = append(errs, fmt.Errorf("write node record: %w", err))
			continue
		}
		path := filepath.Join(root, db, r.Path())
		if err := writeFileAtomic(path, text, 0o600, 0o700); err != nil {
			errs = append(errs, fmt.Errorf("write node record %s: %w", path, err))
		}
	}
	return errors.Join(errs...)
}

// writeFileAtomic writes data to a temporary file next to path and renames
// it over path, so a reader never sees half a file, creating the missing
// directories with mode dirPerm.
func writeFileAtomic(path string, data []byte, perm, dirPerm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // a no-op after a successful rename
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
