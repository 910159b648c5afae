package ibft

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinels, wrapped by *FormatError or a "what:" prefix. Callers branch on
// ErrNotFound only; the rest say what was wrong with a field.
var (
	// ErrNotFound means no source on the machine held an iBFT.
	ErrNotFound = errors.New("no iSCSI boot firmware table found")

	errShort          = errors.New("table shorter than its header")
	errSignature      = errors.New("unknown signature")
	errLengthPastData = errors.New("table length larger than the data")
	errLengthSmall    = errors.New("table length too small for header and control structure")
	errRevision       = errors.New("unsupported revision")
	errChecksum       = errors.New("checksum mismatch")
	errStructID       = errors.New("wrong structure id")
	errStructVersion  = errors.New("unsupported structure version")
	errStructLength   = errors.New("structure length disagrees with the spec")
	errStructIndex    = errors.New("control structure index not 0")
	errOffsetRange    = errors.New("structure runs past the table end")
	errOffsetOverlap  = errors.New("structure overlaps the ACPI header or control structure")
	errStringRange    = errors.New("string runs past the table end")
	errStringOffset   = errors.New("string with a length but offset 0")
	errCHAPType       = errors.New("unknown CHAP type")
	errPrefix         = errors.New("prefix length too long for the address")
	errTooLong        = errors.New("value too long for its field")
	errTooMany        = errors.New("more structures than the table has slots")
	errTableTooBig    = errors.New("table too big for 16-bit string offsets")
	errTableSize      = errors.New("larger than any iBFT")
	errFileSize       = errors.New("file larger than its bound")
	errSecretOverlap  = errors.New("CHAP secret shares bytes with data that is printed")
	errUnprintable    = errors.New("not printable text (a control byte, line break or invalid UTF-8)")
	errVLAN           = errors.New("VLAN id out of range")
	errTargetAddr     = errors.New("no address for a target in use")
	errMAC            = errors.New("MAC address not 6 bytes")
	errNumber         = errors.New("not a number in range")
	errAddress        = errors.New("not an IP address")
	errLUN            = errors.New("LUN string not decodable to one value")
	errNoInterface    = errors.New("no network interface matches")
	errAbsent         = errors.New("not present")
	errNoSignature    = errors.New("no table signature in the legacy window")
	errNoTargets      = errors.New("no target directories")
	errAmbiguous      = errors.New("more than one network interface matches")
)

// FormatError reports one bad field of a table, from raw bytes or sysfs: the
// structure ("acpi_header", "control", "initiator", "nic0", "target1", or a
// sysfs directory), the field, the value found and, where the spec fixes one,
// the value expected.
type FormatError struct {
	Structure string
	Field     string
	Value     string
	Want      string
	Err       error
}

func (e *FormatError) Error() string {
	s := fmt.Sprintf("ibft: %s.%s = %s: %v", e.Structure, e.Field, e.Value, e.Err)
	if e.Want != "" {
		s += " (want " + e.Want + ")"
	}
	return s
}

func (e *FormatError) Unwrap() error { return e.Err }

// SourceError is returned by Load when no source yielded a table. Tried lists
// every source in the order it was tried and why it gave nothing.
type SourceError struct {
	Tried []Attempt
}

// Attempt is one source Load tried: where and what went wrong.
type Attempt struct {
	Source Source
	Err    error
}

// firstCorrupt returns the first attempt that found a table which failed
// to parse (a *FormatError), or nil.
func firstCorrupt(tried []Attempt) *Attempt {
	for i := range tried {
		var fe *FormatError
		if errors.As(tried[i].Err, &fe) {
			return &tried[i]
		}
	}
	return nil
}

// Error is one line. When a source held a table that failed to parse, the
// line leads with that table and its bad field: the firmware published a
// table, and "none found" would send the operator looking for the wrong
// problem.
func (e *SourceError) Error() string {
	corrupt := firstCorrupt(e.Tried)
	s := "ibft: " + ErrNotFound.Error()
	if corrupt != nil {
		s = fmt.Sprintf("ibft: corrupt table in %s: %s; no other table", corrupt.Source, strings.TrimPrefix(corrupt.Err.Error(), "ibft: "))
	}
	for i, a := range e.Tried {
		if &e.Tried[i] != corrupt {
			s += fmt.Sprintf("; %s: %v", a.Source, a.Err)
		}
	}
	return s
}

// Unwrap gives ErrNotFound and each attempt's error, so errors.As finds the
// *FormatError of a corrupt table that was passed over.
func (e *SourceError) Unwrap() []error {
	errs := []error{ErrNotFound}
	for _, a := range e.Tried {
		errs = append(errs, a.Err)
	}
	return errs
}
