package plan

import (
	"net/netip"
	"slices"

	"github.com/iscsiboot/iscsiboot/internal/jsonw"
)

// The plan's JSON (--plan, and %v in logs) is written by hand through
// internal/jsonw, field by field in the order of the structs, as
// encoding/json would write them, so that the binary does not link
// encoding/json. plan_test compares the two.

func appendAddrs(b []byte, as []netip.Addr) []byte {
	if as == nil {
		return append(b, "null"...)
	}
	return jsonw.Array(b, len(as), func(b []byte, i int) []byte { return jsonw.String(b, as[i].String()) })
}

// addrText is what netip.Addr's MarshalText gives: "" for the zero Addr.
func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func (a Auth) appendJSON(b []byte) []byte {
	b = jsonw.Key(append(b, '{'), "method", true)
	b = jsonw.String(b, a.Method)
	b = jsonw.Key(b, "username", false)
	b = jsonw.String(b, a.Username)
	b = jsonw.Key(b, "password", false)
	b = jsonw.String(b, a.Password.shown())
	b = jsonw.Key(b, "username_in", false)
	b = jsonw.String(b, a.UsernameIn)
	b = jsonw.Key(b, "password_in", false)
	b = jsonw.String(b, a.PasswordIn.shown())
	return append(b, '}')
}

func (t *Target) appendJSON(b []byte) []byte {
	b = jsonw.Key(append(b, '{'), "name", true)
	b = jsonw.String(b, t.Name)
	b = jsonw.Key(b, "tpgt", false)
	b = jsonw.Int(b, int64(t.TPGT))
	b = jsonw.Key(b, "lun", false)
	b = jsonw.Uint(b, t.LUN)
	b = jsonw.Key(b, "portals", false)
	if t.Portals == nil {
		b = append(b, "null"...)
	} else {
		b = jsonw.Array(b, len(t.Portals), func(b []byte, i int) []byte {
			b = jsonw.Key(append(b, '{'), "address", true)
			b = jsonw.String(b, t.Portals[i].Address)
			b = jsonw.Key(b, "port", false)
			return append(jsonw.Int(b, int64(t.Portals[i].Port)), '}')
		})
	}
	b = jsonw.Key(b, "iface", false)
	b = jsonw.String(b, t.Iface)
	b = jsonw.Key(b, "iface_name", false)
	b = jsonw.String(b, t.IfaceName)
	b = jsonw.Key(b, "hba", false)
	b = jsonw.String(b, t.HBA)
	b = jsonw.Key(b, "auth", false)
	b = t.Auth.appendJSON(b)
	b = jsonw.Key(b, "source", false)
	b = jsonw.String(b, t.Source)
	return append(b, '}')
}

func (i *Interface) appendJSON(b []byte) []byte {
	b = jsonw.Key(append(b, '{'), "name", true)
	b = jsonw.String(b, i.Name)
	b = jsonw.Key(b, "mac", false)
	b = jsonw.String(b, i.MAC)
	b = jsonw.Key(b, "method", false)
	b = jsonw.String(b, i.Method)
	b = jsonw.Key(b, "addresses", false)
	b = jsonw.Array(b, len(i.Addresses), func(b []byte, j int) []byte {
		s := ""
		if p := i.Addresses[j]; p.IsValid() {
			s = p.String()
		}
		return jsonw.String(b, s)
	})
	b = jsonw.Key(b, "gateway", false)
	b = jsonw.String(b, addrText(i.Gateway))
	b = jsonw.Key(b, "dns", false)
	b = appendAddrs(b, nonNil(i.DNS))
	b = jsonw.Key(b, "vlan", false)
	b = jsonw.Int(b, int64(i.VLAN))
	b = jsonw.Key(b, "parent", false)
	b = jsonw.String(b, i.Parent)
	b = jsonw.Key(b, "mtu", false)
	b = jsonw.Int(b, int64(i.MTU))
	b = jsonw.Key(b, "set_mac", false)
	b = jsonw.String(b, i.SetMAC)
	b = jsonw.Key(b, "hostname", false)
	b = jsonw.String(b, i.Hostname)
	return append(b, '}')
}

// appendJSON writes the plan with the field names of the design (section
// 7): lists are [] rather than null, and every set secret, in auth and in
// params, is "<redacted>".
func (p *Plan) appendJSON(b []byte) []byte {
	b = jsonw.Key(append(b, '{'), "initiator", true)
	b = jsonw.String(b, p.Initiator)
	b = jsonw.Key(b, "targets", false)
	b = jsonw.Array(b, len(p.Targets), func(b []byte, i int) []byte { return p.Targets[i].appendJSON(b) })
	b = jsonw.Key(b, "interfaces", false)
	b = jsonw.Array(b, len(p.Interfaces), func(b []byte, i int) []byte { return p.Interfaces[i].appendJSON(b) })
	b = jsonw.Key(b, "params", false)
	b = append(b, '{')
	keys := make([]string, 0, len(p.Params))
	for k := range p.Params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		v := p.Params[k]
		if isSecretParam(k) {
			v = Secret(v).shown()
		}
		b = jsonw.Key(b, k, i == 0)
		b = jsonw.String(b, v)
	}
	b = append(b, '}')
	for _, f := range []struct {
		name string
		v    bool
	}{{"firmware", p.Firmware}, {"dhcp_root_path", p.DHCPRootPath}, {"need_net", p.NeedNet}} {
		b = jsonw.Key(b, f.name, false)
		b = jsonw.Bool(b, f.v)
	}
	b = jsonw.Key(b, "bootdev", false)
	b = jsonw.String(b, p.BootDev)
	b = jsonw.Key(b, "nameservers", false)
	b = appendAddrs(b, nonNil(p.Nameservers))
	b = jsonw.Key(b, "transport", false)
	b = jsonw.String(b, p.Transport)
	b = jsonw.Key(b, "soft_roce", false)
	b = jsonw.Strings(b, nonNil(p.SoftRoCE))
	for _, f := range []struct {
		name string
		v    bool
	}{{"multipath", p.Multipath}, {"no_multipath", p.NoMultipath}, {"wait_net", p.WaitNet}, {"skip_route_test", p.SkipRouteTest}} {
		b = jsonw.Key(b, f.name, false)
		b = jsonw.Bool(b, f.v)
	}
	b = jsonw.Key(b, "login_retry_max", false)
	b = jsonw.Int(b, int64(p.LoginRetryMax))
	b = jsonw.Key(b, "retry_seconds", false)
	b = jsonw.Int(b, int64(p.RetrySeconds))
	b = jsonw.Key(b, "resident", false)
	b = jsonw.Bool(b, p.Resident)
	b = jsonw.Key(b, "warnings", false)
	b = jsonw.Strings(b, nonNil(p.Warnings))
	return append(b, '}')
}
