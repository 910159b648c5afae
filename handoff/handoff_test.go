package handoff

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/iscsiboot/iscsiboot/plan"

	"github.com/google/go-cmp/cmp"
)

// handoffPlan is a root target as netroot=iscsi:10.0.2.2::3260::iqn.2025-01.test:disk1
// gives it, with the initiator name.
func handoffPlan() *plan.Plan {
	return &plan.Plan{
		Initiator: "iqn.2025-01.test:init",
		Targets:   []plan.Target{{Name: "iqn.2025-01.test:disk1", TPGT: 1, Portals: []plan.Portal{{Address: "10.0.2.2", Port: 3260}}}},
		Params:    plan.DefaultParams(),
	}
}

// wantNodeRecord is the record of handoffPlan's session: iscsiadm 2.1.8's
// key order, open-iscsi's defaults, and the root-disk settings.
const wantNodeRecord = `# BEGIN RECORD 2.1.8
node.name = iqn.2025-01.test:disk1
node.tpgt = 1
node.startup = onboot
node.leading_login = No
iface.iscsi_ifacename = default
iface.transport_name = tcp
node.discovery_port = 0
node.discovery_type = static
node.session.initial_cmdsn = 0
node.session.initial_login_retry_max = 4
node.session.xmit_thread_priority = -20
node.session.cmds_max = 128
node.session.queue_depth = 32
node.session.nr_sessions = 1
node.session.auth.authmethod = None
node.session.auth.chap_algs = MD5
node.session.timeo.replacement_timeout = 86400
node.session.err_timeo.abort_timeout = 15
node.session.err_timeo.lu_reset_timeout = 30
node.session.err_timeo.tgt_reset_timeout = 30
node.session.err_timeo.host_reset_timeout = 60
node.session.iscsi.FastAbort = Yes
node.session.iscsi.InitialR2T = No
node.session.iscsi.ImmediateData = Yes
node.session.iscsi.FirstBurstLength = 262144
node.session.iscsi.MaxBurstLength = 16776192
node.session.iscsi.DefaultTime2Retain = 0
node.session.iscsi.DefaultTime2Wait = 2
node.session.iscsi.MaxConnections = 1
node.session.iscsi.MaxOutstandingR2T = 1
node.session.iscsi.ERL = 0
node.session.scan = auto
node.session.reopen_max = 0
node.conn[0].address = 10.0.2.2
node.conn[0].port = 3260
node.conn[0].startup = manual
node.conn[0].tcp.window_size = 524288
node.conn[0].tcp.type_of_service = 0
node.conn[0].timeo.logout_timeout = 15
node.conn[0].timeo.login_timeout = 30
node.conn[0].timeo.auth_timeout = 45
node.conn[0].timeo.noop_out_interval = 0
node.conn[0].timeo.noop_out_timeout = 0
node.conn[0].iscsi.MaxXmitDataSegmentLength = 0
node.conn[0].iscsi.MaxRecvDataSegmentLength = 262144
node.conn[0].iscsi.HeaderDigest = None
node.conn[0].iscsi.DataDigest = None
node.conn[0].iscsi.IFMarker = No
node.conn[0].iscsi.OFMarker = No
# END RECORD
`

// TestWriteHandoff checks every hand-off file's path, exact content and
// mode, and the modes of the directories it creates.
func TestWriteHandoff(t *testing.T) {
	root := t.TempDir()
	p := handoffPlan()
	rec := NewNodeRecord(p, &p.Targets[0], plan.Portal{Address: "10.0.2.2", Port: 3260}, 1)
	if err := WriteHandoff(root, p, []NodeRecord{rec}); err != nil {
		t.Fatal(err)
	}
	const node = "iqn.2025-01.test:disk1/10.0.2.2,3260,1/default"
	want := map[string]struct {
		mode fs.FileMode
		text string
	}{
		"etc":                                    {fs.ModeDir | 0o755, ""},
		"etc/iscsi":                              {fs.ModeDir | 0o755, ""},
		"etc/iscsi/initiatorname.iscsi":          {0o644, "InitiatorName=iqn.2025-01.test:init\n"},
		"etc/iscsi/nodes":                        {fs.ModeDir | 0o700, ""},
		"etc/iscsi/nodes/iqn.2025-01.test:disk1": {fs.ModeDir | 0o700, ""},
		"etc/iscsi/nodes/" + filepath.Dir(node):  {fs.ModeDir | 0o700, ""},
		"etc/iscsi/nodes/" + node:                {0o600, wantNodeRecord},
		"run":                                    {fs.ModeDir | 0o755, ""},
		"run/initiatorname.iscsi":                {0o644, "InitiatorName=iqn.2025-01.test:init\n"},
		"run/iscsiboot":                          {fs.ModeDir | 0o755, ""},
		"run/iscsiboot/nodes":                    {fs.ModeDir | 0o700, ""},
		"run/iscsiboot/nodes/iqn.2025-01.test:disk1": {fs.ModeDir | 0o700, ""},
		"run/iscsiboot/nodes/" + filepath.Dir(node):  {fs.ModeDir | 0o700, ""},
		"run/iscsiboot/nodes/" + node:                {0o600, wantNodeRecord},
	}
	check := func() {
		t.Helper()
		seen := map[string]bool{}
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || path == root {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			seen[rel] = true
			w, ok := want[rel]
			if !ok {
				t.Errorf("unexpected %s", rel)
				return nil
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			if fi.Mode() != w.mode {
				t.Errorf("%s: mode %v, want %v", rel, fi.Mode(), w.mode)
			}
			if d.IsDir() {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(w.text, string(b)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", rel, diff)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for rel := range want {
			if !seen[rel] {
				t.Errorf("missing %s", rel)
			}
		}
	}
	check()
	// Scripts run the login twice: the second run replaces the files and
	// leaves no temporary ones.
	if err := WriteHandoff(root, p, []NodeRecord{rec}); err != nil {
		t.Fatal(err)
	}
	check()
}

// TestWriteHandoffNoInitiator still writes the node records, and says what
// is missing.
func TestWriteHandoffNoInitiator(t *testing.T) {
	root := t.TempDir()
	p := handoffPlan()
	p.Initiator = ""
	err := WriteHandoff(root, p, []NodeRecord{NewNodeRecord(p, &p.Targets[0], plan.Portal{Address: "10.0.2.2", Port: 3260}, 1)})
	if !errors.Is(err, errNoInitiator) {
		t.Fatalf("error %v, want %v", err, errNoInitiator)
	}
	if _, err := os.Stat(filepath.Join(root, "etc/iscsi/initiatorname.iscsi")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("initiatorname.iscsi written without a name: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, NodeDB, "iqn.2025-01.test:disk1/10.0.2.2,3260,1/default")); err != nil {
		t.Errorf("node record: %v", err)
	}
}

// TestNodeRecordSettings covers what a plan changes in a record: CHAP
// (one-way and mutual) right after the method, as iscsiadm orders them,
// the user's parameters over the root-disk defaults, an iface record, an
// offload transport, an IPv6 portal in the path.
func TestNodeRecordSettings(t *testing.T) {
	tests := []struct {
		name     string
		plan     func(p *plan.Plan)
		portal   plan.Portal
		tpgt     int
		wantPath string
		want     []string // lines that must appear, in this order
		notWant  []string
	}{
		{
			name: "one-way CHAP",
			plan: func(p *plan.Plan) {
				p.Targets[0].Auth = plan.Auth{Method: plan.AuthCHAP, Username: "user1", Password: "secret-one"}
			},
			portal: plan.Portal{Address: "10.0.2.2", Port: 3260}, tpgt: 1,
			wantPath: "iqn.2025-01.test:disk1/10.0.2.2,3260,1/default",
			want: []string{
				"node.session.auth.authmethod = CHAP",
				"node.session.auth.username = user1",
				"node.session.auth.password = secret-one",
				"node.session.auth.chap_algs = MD5",
			},
			notWant: []string{"username_in", "password_in"},
		},
		{
			name: "mutual CHAP",
			plan: func(p *plan.Plan) {
				p.Targets[0].Auth = plan.Auth{Method: plan.AuthCHAP, Username: "user1", Password: "secret-one",
					UsernameIn: "tgt", PasswordIn: "secret-two"}
			},
			portal: plan.Portal{Address: "10.0.2.2", Port: 3260}, tpgt: 1,
			wantPath: "iqn.2025-01.test:disk1/10.0.2.2,3260,1/default",
			want: []string{
				"node.session.auth.authmethod = CHAP",
				"node.session.auth.username = user1",
				"node.session.auth.password = secret-one",
				"node.session.auth.username_in = tgt",
				"node.session.auth.password_in = secret-two",
				"node.session.auth.chap_algs = MD5",
			},
		},
		{
			name: "user parameters win; CHAP only from the target",
			plan: func(p *plan.Plan) {
				p.Params["node.session.timeo.replacement_timeout"] = "15"
				p.Params["node.conn[0].timeo.noop_out_interval"] = "5"
				p.Params["node.conn[0].iscsi.HeaderDigest"] = "CRC32C,None"
				p.Params["node.session.auth.username"] = "not-from-params"
			},
			portal: plan.Portal{Address: "10.0.2.2", Port: 3260}, tpgt: 1,
			wantPath: "iqn.2025-01.test:disk1/10.0.2.2,3260,1/default",
			want: []string{
				"node.session.auth.authmethod = None",
				"node.session.timeo.replacement_timeout = 15",
				"node.conn[0].timeo.noop_out_interval = 5",
				"node.conn[0].timeo.noop_out_timeout = 0",
				"node.conn[0].iscsi.HeaderDigest = CRC32C,None",
			},
			notWant: []string{"not-from-params"},
		},
		{
			name: "iface record, offload transport, IPv6, another tpgt",
			plan: func(p *plan.Plan) {
				p.Transport = "bnx2i"
				p.Targets[0].IfaceName = "bnx2i.00:11:22:33:44:55"
			},
			portal: plan.Portal{Address: "fd00::2", Port: 3261}, tpgt: 7,
			wantPath: "iqn.2025-01.test:disk1/fd00::2,3261,7/bnx2i.00:11:22:33:44:55",
			want: []string{
				"node.tpgt = 7",
				"iface.iscsi_ifacename = bnx2i.00:11:22:33:44:55",
				"iface.transport_name = bnx2i",
				"node.conn[0].address = fd00::2",
				"node.conn[0].port = 3261",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := handoffPlan()
			tt.plan(p)
			r := NewNodeRecord(p, &p.Targets[0], tt.portal, tt.tpgt)
			if got := r.Path(); got != tt.wantPath {
				t.Errorf("path %q, want %q", got, tt.wantPath)
			}
			b, err := r.MarshalText()
			if err != nil {
				t.Fatal(err)
			}
			text := string(b)
			at := 0
			for _, w := range tt.want {
				i := strings.Index(text[at:], w+"\n")
				if i < 0 {
					t.Errorf("record lacks %q after offset %d:\n%s", w, at, text)
					continue
				}
				at += i + len(w)
			}
			for _, nw := range tt.notWant {
				if strings.Contains(text, nw) {
					t.Errorf("record has %q:\n%s", nw, text)
				}
			}
		})
	}
}

// TestNodeRecordRefused checks that nothing can break out of the node
// database or add a line to a record.
func TestNodeRecordRefused(t *testing.T) {
	for name, mod := range map[string]func(r *NodeRecord){
		"slash in target":  func(r *NodeRecord) { r.Target = "iqn.x/../../etc" },
		"dot-dot target":   func(r *NodeRecord) { r.Target = ".." },
		"empty iface":      func(r *NodeRecord) { r.Iface = "" },
		"slash in address": func(r *NodeRecord) { r.Portal.Address = "a/b" },
		"newline in secret": func(r *NodeRecord) {
			r.Auth = plan.Auth{Method: plan.AuthCHAP, Username: "u", Password: "p\nnode.startup = automatic"}
		},
		"newline in param": func(r *NodeRecord) { r.Params["node.session.scan"] = "auto\nnode.startup = automatic" },
	} {
		t.Run(name, func(t *testing.T) {
			p := handoffPlan()
			r := NewNodeRecord(p, &p.Targets[0], plan.Portal{Address: "10.0.2.2", Port: 3260}, 1)
			mod(&r)
			if _, err := r.MarshalText(); !errors.Is(err, errRecordValue) {
				t.Errorf("MarshalText: %v, want %v", err, errRecordValue)
			}
			root := t.TempDir()
			if err := r.WriteFiles(root); !errors.Is(err, errRecordValue) {
				t.Errorf("WriteFiles: %v, want %v", err, errRecordValue)
			}
			if ents, _ := os.ReadDir(root); len(ents) != 0 {
				t.Errorf("WriteFiles left %d entries", len(ents))
			}
		})
	}
}

// TestNodeRecordDefaultsMatchIscsiadm compares the defaults of every key
// with what Debian's iscsiadm 2.1.8 wrote for a new record with no
// iscsid.conf (testdata), so that a key the plan leaves alone means the
// same to iscsid as a record it made itself. Only the root-disk settings
// differ.
func TestNodeRecordDefaultsMatchIscsiadm(t *testing.T) {
	f, err := os.Open("testdata/iscsiadm-2.1.8-node-defaults.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ref := parseRecord(t, f)
	p := handoffPlan()
	b, err := NewNodeRecord(p, &p.Targets[0], plan.Portal{Address: "10.0.2.2", Port: 3260}, 1).MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	ours := parseRecord(t, strings.NewReader(string(b)))
	differ := map[string]bool{
		"node.startup":                           true, // onboot: --logoutall leaves it
		"node.session.timeo.replacement_timeout": true,
		"node.conn[0].timeo.noop_out_interval":   true,
		"node.conn[0].timeo.noop_out_timeout":    true,
	}
	for k, v := range ours {
		rv, ok := ref[k]
		switch {
		case !ok:
			t.Errorf("%s: not a key iscsiadm writes", k)
		case differ[k] && rv == v:
			t.Errorf("%s = %s: the same as open-iscsi's default", k, v)
		case !differ[k] && rv != v:
			t.Errorf("%s = %s, iscsiadm writes %s", k, v, rv)
		}
	}
	for k := range ref {
		if _, ok := ours[k]; !ok && !strings.HasPrefix(k, "iface.") {
			t.Errorf("record lacks %s", k)
		}
	}
}

func parseRecord(t *testing.T, r interface{ Read([]byte) (int, error) }) map[string]string {
	t.Helper()
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		l := sc.Text()
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		k, v, ok := strings.Cut(l, " = ")
		if !ok {
			t.Fatalf("record line %q", l)
		}
		if _, dup := out[k]; dup {
			t.Fatalf("key %s twice", k)
		}
		out[k] = v
	}
	return out
}

// TestWriteHandoffControlByte: an initiator name with a line break or a NUL
// (from DHCP option 203, say) never reaches initiatorname.iscsi, whatever
// let it through before; the node records are still written.
func TestWriteHandoffControlByte(t *testing.T) {
	for _, name := range []string{"iqn.2025-01.test:a\nInitiatorName=iqn.2025-01.evil:x", "iqn.2025-01.test:a\x00b", "iqn.2025-01.test:\x1b[2J"} {
		root := t.TempDir()
		p := handoffPlan()
		p.Initiator = name
		err := WriteHandoff(root, p, []NodeRecord{NewNodeRecord(p, &p.Targets[0], plan.Portal{Address: "10.0.2.2", Port: 3260}, 1)})
		if !errors.Is(err, errControlByte) || strings.Count(err.Error(), "\n") != 0 || !strings.Contains(err.Error(), strconv.Quote(name)) {
			t.Errorf("initiator %q: error %v, want one line with the quoted name and %v", name, err, errControlByte)
		}
		for _, f := range initiatorNameFiles {
			if _, err := os.Stat(filepath.Join(root, f)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("initiator %q: %s written: %v", name, f, err)
			}
		}
		if _, err := os.Stat(filepath.Join(root, NodeDB, "iqn.2025-01.test:disk1/10.0.2.2,3260,1/default")); err != nil {
			t.Errorf("initiator %q: node record: %v", name, err)
		}
	}
}
