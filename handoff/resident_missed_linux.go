package handoff

import (
	"github.com/iscsiboot/iscsiboot/boot"
	"github.com/iscsiboot/iscsiboot/core/kernel"
)

// missedConnErrors returns a connection error for each of paths whose
// session the kernel shows FAILED: its connection failed between the
// login and the resident loop's start, while no process listened, so its
// ISCSI_KEVENT_CONN_ERROR reached nobody, and nothing would log it in
// again. An error event for it that is queued all the same is dropped, so
// one failure costs one re-login.
func missedConnErrors(k *boot.Kernel, sys kernel.Sysfs, paths []ResidentPath) []*kernel.ConnError {
	ss, _ := sys.Sessions()
	failed := map[int]bool{}
	for _, s := range ss {
		failed[s.SID] = s.State == "FAILED"
	}
	var out []*kernel.ConnError
	for _, p := range paths {
		if failed[int(p.SID)] {
			k.DropConnError(p.SID, p.CID)
			out = append(out, &kernel.ConnError{SID: p.SID, CID: p.CID, Code: kernel.ErrConnFailed})
		}
	}
	return out
}
