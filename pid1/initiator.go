package pid1

import (
	"os"

	"github.com/iscsiboot/iscsiboot/plan"
)

// Where the machine's identity is read from, for a derived initiator name.
const (
	productUUIDPath = "/sys/class/dmi/id/product_uuid"
	machineIDPath   = "/etc/machine-id"
)

// deriveInitiator gives a plan that no source gave an initiator name
// (rd.iscsi.initiator=, the iBFT, DHCP option 203,
// /etc/iscsi/initiatorname.iscsi) the machine's stable one
// (plan.DeriveInitiator), and prints it: a target's ACL must name it, and
// the hand-off writes it for iscsid. A machine without an identity keeps
// none, and the login says so.
func deriveInitiator(p *plan.Plan, productUUID, machineID string, logf func(string, ...any)) {
	if p.Initiator != "" {
		return
	}
	uuid, _ := os.ReadFile(productUUID)
	mid, _ := os.ReadFile(machineID)
	name, from, err := plan.DeriveInitiator(string(uuid), string(mid))
	if err != nil {
		logf("warning: no initiator name given and none derived: %v", err)
		return
	}
	p.Initiator = name
	logf("initiator name %s, derived from %s (none given)", name, from)
}
