package iscsierr

import (
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"

	"github.com/iscsiboot/iscsiboot/boot"
	"github.com/iscsiboot/iscsiboot/core"
	"github.com/iscsiboot/iscsiboot/core/kernel"
	"github.com/iscsiboot/iscsiboot/plan"
)

// TestCode: the one mapping of errors to open-iscsi's exit codes.
func TestCode(t *testing.T) {
	authPath := &boot.PathError{Target: "iqn.2025-01.test:a", Err: fmt.Errorf("login: %w", core.ErrAuth)}
	deadPath := &boot.PathError{Target: "iqn.2025-01.test:b", Err: syscall.ECONNREFUSED}
	_, cmdlineErr := plan.FromCmdline("rd.iscsi.param=node.session.timeo.replacement_timeout=abc")
	for _, c := range []struct {
		name string
		err  error
		want int
	}{
		{"none", nil, Success},
		{"usage", Markf(ErrUsage, "unexpected argument %q", "x"), Invalid},
		{"a bad command line", cmdlineErr, Invalid},
		{"no table", Mark(ErrNotFound, errors.New("no iBFT")), NoObjsFound},
		{"network", Mark(ErrNetwork, errors.New("eth0: no carrier")), Trans},
		{"no NIC", fmt.Errorf("boot: %w", &boot.MissingLinkError{Missing: []string{"eth1"}}), Trans},
		{"no transport", kernel.Fatal(fmt.Errorf("open: %w", kernel.ErrNoTransport)), TransNotFound},
		{"no HBA session", kernel.Fatal(fmt.Errorf("qla4xxx: %w", kernel.ErrNoHBASession)), SessNotFound},
		{"authentication", fmt.Errorf("x: %w", core.ErrAuth), LoginAuthFailed},
		{"unknown target", core.ErrTargetNotFound, FatalLogin},
		{"refused", syscall.ECONNREFUSED, Trans},
		{"closed", io.EOF, Trans},
		{"target busy", core.ErrRetryable, Login},
		{"the first failed path's code", errors.Join(authPath, deadPath), LoginAuthFailed},
		{"a refused name of ours", core.ErrBadName, Invalid},
		{"anything else", errors.New("?"), Generic},
	} {
		if got := Code(c.err); got != c.want {
			t.Errorf("%s: Code(%v) = %d, want %d", c.name, c.err, got, c.want)
		}
	}
	if err := Mark(ErrUsage, errors.New("the message")); err.Error() != "the message" || !Marked(err) {
		t.Errorf("Mark changed the message or is not Marked: %q", err)
	}
}
