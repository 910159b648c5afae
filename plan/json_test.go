package plan

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"slices"
	"testing"
)

// referenceJSON is the plan's JSON as encoding/json writes it (the
// implementation before the hand-written one), the yardstick for
// appendJSON.
func referenceJSON(t *testing.T, p *Plan, indent string) []byte {
	t.Helper()
	type plain Plan
	q := plain(*p)
	q.Targets = nonNil(q.Targets)
	q.Interfaces = nonNil(slices.Clone(q.Interfaces))
	for i := range q.Interfaces {
		q.Interfaces[i].Addresses = nonNil(q.Interfaces[i].Addresses)
		q.Interfaces[i].DNS = nonNil(q.Interfaces[i].DNS)
	}
	q.Params = make(map[string]string, len(p.Params))
	for k, v := range p.Params {
		if isSecretParam(k) {
			v = Secret(v).shown()
		}
		q.Params[k] = v
	}
	q.Nameservers = nonNil(q.Nameservers)
	q.SoftRoCE = nonNil(q.SoftRoCE)
	q.Warnings = nonNil(q.Warnings)
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	e.SetIndent("", indent)
	if err := e.Encode(q); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func TestPlanJSONAsEncodingJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Plan
	}{
		{name: "empty"},
		{name: "everything set", p: Plan{
			Initiator: "iqn.1993-08.org.debian:01:<x>",
			Targets: []Target{
				{Name: "iqn.2009-06.dracut:target0", TPGT: 1, LUN: 1 << 40, Portals: []Portal{{"192.168.50.1", 3260}, {"fd00::1", 3261}},
					Iface: "eth0", IfaceName: "fw0", Auth: Auth{Method: AuthCHAP, Username: "u\"ser", Password: "secretsecret", UsernameIn: "in", PasswordIn: "other"},
					Source: SourceCmdline},
				{Name: "t2"}, // nil portals: null
			},
			Interfaces: []Interface{
				{Name: "eth0", MAC: "52:54:00:12:34:56", Method: MethodStatic, Addresses: []netip.Prefix{netip.MustParsePrefix("10.0.2.15/24")},
					Gateway: netip.MustParseAddr("10.0.2.2"), DNS: []netip.Addr{netip.MustParseAddr("10.0.2.3")}, VLAN: 5, Parent: "eth1",
					MTU: 9000, SetMAC: "52:54:00:00:00:01", Hostname: "host\u2028"},
				{Name: "eth1"},
			},
			Params:   map[string]string{"node.session.auth.password": "p", "node.session.timeo.replacement_timeout": "86400", "a\tb": "\x01"},
			Firmware: true, DHCPRootPath: true, NeedNet: true, BootDev: "eth0",
			Nameservers: []netip.Addr{netip.MustParseAddr("fd00::53")}, Transport: "tcp", SoftRoCE: []string{"eth0", "e\"th1"},
			Multipath: true, NoMultipath: true, WaitNet: true, SkipRouteTest: true, LoginRetryMax: 3, RetrySeconds: 60,
			Resident: true, Warnings: []string{"rd.neednet is refused", "\xff"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.p.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if want := referenceJSON(t, &tc.p, ""); !bytes.Equal(got, want) {
				t.Errorf("MarshalJSON:\n got %s\nwant %s", got, want)
			}
			var w bytes.Buffer
			if err := tc.p.WriteJSON(&w); err != nil {
				t.Fatal(err)
			}
			if want := append(referenceJSON(t, &tc.p, "  "), '\n'); !bytes.Equal(w.Bytes(), want) {
				t.Errorf("WriteJSON:\n got %s\nwant %s", w.Bytes(), want)
			}
		})
	}
}
