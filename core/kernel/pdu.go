package kernel

import (
	"errors"
	"fmt"
)

const bhsLen = 48

var errBadPDU = errors.New("malformed PDU from the kernel")

// splitPDU cuts the bytes after a RECV_PDU event into the header (BHS and
// AHS) and the data segment, as the header's lengths say.
func splitPDU(b []byte) (hdr, data []byte, err error) {
	if len(b) < bhsLen {
		return nil, nil, fmt.Errorf("RECV_PDU of %d bytes: %w", len(b), errBadPDU)
	}
	ahs := int(b[4]) * 4
	dl := int(b[5])<<16 | int(b[6])<<8 | int(b[7])
	if len(b) < bhsLen+ahs+dl {
		return nil, nil, fmt.Errorf("RECV_PDU of %d bytes, header says %d: %w", len(b), bhsLen+ahs+dl, errBadPDU)
	}
	return b[:bhsLen+ahs], b[bhsLen+ahs : bhsLen+ahs+dl], nil
}
