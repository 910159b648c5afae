package boot

import (
	"strings"

	"github.com/iscsiboot/iscsiboot/core"
)

// knownParams are the open-iscsi node and iface record names a login or
// the kernel session uses, beyond the iSCSI keys of core.RecordKeys.
var knownParams = map[string]bool{
	"node.session.timeo.replacement_timeout":    true,
	"node.conn[0].timeo.noop_out_interval":      true,
	"node.conn[0].timeo.noop_out_timeout":       true,
	"node.conn[0].timeo.login_timeout":          true,
	"node.conn[0].timeo.logout_timeout":         true,
	"node.session.err_timeo.abort_timeout":      true,
	"node.session.err_timeo.lu_reset_timeout":   true,
	"node.session.err_timeo.tgt_reset_timeout":  true,
	"node.session.err_timeo.host_reset_timeout": true,
	"node.session.iscsi.FastAbort":              true,
	"node.session.initial_login_retry_max":      true,
	"node.session.cmds_max":                     true,
	"node.session.queue_depth":                  true,
	"node.session.scan":                         true,
	"node.session.auth.authmethod":              true,
	"node.session.auth.username":                true,
	"node.session.auth.password":                true,
	"node.session.auth.username_in":             true,
	"node.session.auth.password_in":             true,
	"node.session.auth.chap_algs":               true,
	"node.startup":                              true,
	"node.leading_login":                        true,
}

// KnownParam reports whether name is an open-iscsi record name iscsiboot
// acts on; an unknown one (a typo, most likely) deserves a warning rather
// than silence.
func KnownParam(name string) bool {
	if _, ok := core.RecordKeys[name]; ok {
		return true
	}
	return knownParams[name] || strings.HasPrefix(name, "iface.")
}
