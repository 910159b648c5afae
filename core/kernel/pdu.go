package kernel

import (
	"errors"
	"fmt"
)

const bhsLen = 48

var errBadPDU = errors.New("malformed PDU from the kernel")

// splitPDU cuts the bytes after a RECV_PDU event into the 48-byte basic
// header and the data segment. The kernel passes up the BHS alone, never
// an AHS (scsi_transport_iscsi.c, iscsi_recv_pdu copies sizeof(struct
// iscsi_hdr) and then the data), so the data starts at byte 48 whatever
// TotalAHSLength says; its length is the header's DataSegmentLength.
func splitPDU(b []byte) (hdr, data []byte, err error) {
	if len(b) < bhsLen {
		return nil, nil, fmt.Errorf("RECV_PDU of %d bytes: %w", len(b), errBadPDU)
	}
	dl := int(b[5])<<16 | int(b[6])<<8 | int(b[7])
	if len(b) < bhsLen+dl {
		return nil, nil, fmt.Errorf("RECV_PDU of %d bytes, header says %d: %w", len(b), bhsLen+dl, errBadPDU)
	}
	return b[:bhsLen], b[bhsLen : bhsLen+dl], nil
}
