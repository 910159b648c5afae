package kernel

import (
	"errors"
	"syscall"
	"testing"
)

func TestOpErrorMessage(t *testing.T) {
	tests := []struct {
		err  *OpError
		want string
	}{
		{&OpError{Op: UeventCreateConn, SID: 5, CID: 0, Errno: syscall.ENOMEM},
			"kernel iSCSI CREATE_CONN for connection 5:0: cannot allocate memory (load crc32c (crc32c_generic) before the first connection: iscsi_tcp needs it)"},
		// ENOMEM elsewhere is not crc32c's doing.
		{&OpError{Op: UeventCreateSession, SID: -1, CID: -1, Errno: syscall.ENOMEM},
			"kernel iSCSI CREATE_SESSION: cannot allocate memory"},
		// An unknown transport handle: EINVAL (scsi_transport_iscsi.c).
		{&OpError{Op: UeventCreateSession, SID: -1, CID: -1, Errno: syscall.EINVAL},
			"kernel iSCSI CREATE_SESSION: invalid argument (is the transport's module (iscsi_tcp) loaded?)"},
		{&OpError{Op: UeventDestroySession, SID: 5, CID: -1, Errno: syscall.ENOENT},
			"kernel iSCSI DESTROY_SESSION for session 5: no such file or directory"},
		{&OpError{Op: UeventBindConn, SID: 5, CID: 0, Errno: syscall.ENODEV},
			"kernel iSCSI BIND_CONN for connection 5:0: no such device"},
		{&OpError{Op: UeventStopConn, SID: 7, CID: 1, Errno: syscall.EPERM},
			"kernel iSCSI STOP_CONN for connection 7:1: operation not permitted (needs root (CAP_SYS_ADMIN))"},
		{&OpError{Op: UeventSetHostParam, SID: -1, CID: 3, Errno: syscall.ENOSYS},
			"kernel iSCSI SET_HOST_PARAM: function not implemented"},
		{&OpError{Op: 42, SID: -1, CID: -1, Errno: syscall.EINVAL},
			"kernel iSCSI uevent 42: invalid argument"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("message\n got %q\nwant %q", got, tt.want)
		}
		if !errors.Is(tt.err, tt.err.Errno) {
			t.Errorf("%v does not unwrap to %v", tt.err, tt.err.Errno)
		}
	}
}

func TestConnErrorMessage(t *testing.T) {
	err := &ConnError{SID: 5, CID: 0, Code: ErrNopTimedOut}
	if want := "kernel reports connection 5:0 failed: ISCSI_ERR_NOP_TIMEDOUT"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
}
