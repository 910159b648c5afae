package handoff

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/iscsiboot/iscsiboot/plan"
)

// The resident state crosses the pipe to the resident process (the same
// binary) as lines of words, each string in Go's quoted form so that no
// byte of a name or secret can end a line or a word:
//
//	iscsiboot-resident 1
//	initiator "iqn..."
//	transport "tcp"
//	handle 18446612682070343407
//	param "node.session.auth.chap_algs" "SHA256,MD5"
//	target "iqn..." TPGT "CHAP" "user" "secret" "user_in" "secret_in"
//	path "iqn..." SID CID "10.0.2.2" 3260 "map" "dev"
//	end
//
// It carries the CHAP secrets in the clear (a Plan's JSON redacts them),
// which is why it is not Plan's JSON; it needs no JSON decoder either.

const residentMagic = "iscsiboot-resident 1"

var (
	errResidentFormat = errors.New("not a resident state")
	errResidentEnd    = errors.New("ends before its end line")
)

// maxResidentLine bounds one line; a boot's state is a few hundred bytes.
const maxResidentLine = 64 << 10

// Encode writes st for DecodeResidentState, secrets included: w must be a
// pipe to the resident process, nothing that is kept or shown.
func (st ResidentState) Encode(w io.Writer) error {
	q := strconv.Quote
	var b strings.Builder
	fmt.Fprintf(&b, "%s\ninitiator %s\ntransport %s\nhandle %d\n", residentMagic, q(st.Plan.Initiator), q(st.Plan.Transport), st.Handle)
	for _, k := range slices.Sorted(maps.Keys(st.Plan.Params)) {
		fmt.Fprintf(&b, "param %s %s\n", q(k), q(st.Plan.Params[k]))
	}
	for _, t := range st.Plan.Targets {
		a := t.Auth
		fmt.Fprintf(&b, "target %s %d %s %s %s %s %s\n", q(t.Name), t.TPGT, q(a.Method), q(a.Username), q(a.Password.Reveal()),
			q(a.UsernameIn), q(a.PasswordIn.Reveal()))
	}
	for _, p := range st.Paths {
		fmt.Fprintf(&b, "path %s %d %d %s %d %s %s\n", q(p.Target), p.SID, p.CID, q(p.Persistent.Address), p.Persistent.Port, q(p.Map), q(p.Dev))
	}
	b.WriteString("end\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// DecodeResidentState reads what Encode wrote, up to its end line.
func DecodeResidentState(r io.Reader) (ResidentState, error) {
	st, err := decodeResident(r)
	if err != nil {
		return ResidentState{}, fmt.Errorf("resident state: %w", err)
	}
	return st, nil
}

func decodeResident(r io.Reader) (ResidentState, error) {
	var st ResidentState
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, maxResidentLine)
	if !sc.Scan() || sc.Text() != residentMagic {
		return st, errResidentFormat
	}
	for n := 2; sc.Scan(); n++ {
		w, err := residentWords(sc.Text())
		if err != nil {
			return st, fmt.Errorf("line %d: %w", n, err)
		}
		if len(w) == 1 && w[0].s == "end" && !w[0].quoted {
			return st, nil
		}
		if err := st.decodeLine(w); err != nil {
			return st, fmt.Errorf("line %d: %w", n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return st, err
	}
	return st, errResidentEnd
}

// word is one word of a line: a bare word or a quoted string, unquoted.
type word struct {
	s      string
	quoted bool
}

func residentWords(line string) ([]word, error) {
	var ws []word
	for line = strings.TrimLeft(line, " "); line != ""; line = strings.TrimLeft(line, " ") {
		if line[0] == '"' {
			qs, err := strconv.QuotedPrefix(line)
			if err != nil {
				return nil, fmt.Errorf("%.40q: %w", line, errResidentFormat)
			}
			s, _ := strconv.Unquote(qs) // QuotedPrefix checked it
			ws = append(ws, word{s: s, quoted: true})
			line = line[len(qs):]
			continue
		}
		i := strings.IndexByte(line, ' ')
		if i < 0 {
			i = len(line)
		}
		ws = append(ws, word{s: line[:i]})
		line = line[i:]
	}
	return ws, nil
}

// decodeLine applies one line; pattern names each word after the first:
// s a quoted string, n an unsigned number.
func (st *ResidentState) decodeLine(w []word) error {
	if len(w) == 0 || w[0].quoted {
		return errResidentFormat
	}
	var s []string
	var n []uint64
	args := func(pattern string) error {
		if len(w) != 1+len(pattern) {
			return fmt.Errorf("%s: %d words, want %d: %w", w[0].s, len(w)-1, len(pattern), errResidentFormat)
		}
		for i, c := range pattern {
			x := w[1+i]
			if (c == 's') != x.quoted {
				return fmt.Errorf("%s: word %d %.40q: %w", w[0].s, i+1, x.s, errResidentFormat)
			}
			if c == 's' {
				s = append(s, x.s)
				continue
			}
			v, err := strconv.ParseUint(x.s, 10, 64)
			if err != nil {
				return fmt.Errorf("%s: word %d %.40q: %w", w[0].s, i+1, x.s, errResidentFormat)
			}
			n = append(n, v)
		}
		return nil
	}
	small := func(v uint64, bits int) bool { return v < 1<<bits }
	switch w[0].s {
	case "initiator":
		if err := args("s"); err != nil {
			return err
		}
		st.Plan.Initiator = s[0]
	case "transport":
		if err := args("s"); err != nil {
			return err
		}
		st.Plan.Transport = s[0]
	case "handle":
		if err := args("n"); err != nil {
			return err
		}
		st.Handle = n[0]
	case "param":
		if err := args("ss"); err != nil {
			return err
		}
		if st.Plan.Params == nil {
			st.Plan.Params = make(map[string]string)
		}
		st.Plan.Params[s[0]] = s[1]
	case "target":
		if err := args("snsssss"); err != nil {
			return err
		}
		if !small(n[0], 16) {
			return fmt.Errorf("target: tpgt %d: %w", n[0], errResidentFormat)
		}
		st.Plan.Targets = append(st.Plan.Targets, plan.Target{Name: s[0], TPGT: int(n[0]), Auth: plan.Auth{Method: s[1],
			Username: s[2], Password: plan.Secret(s[3]), UsernameIn: s[4], PasswordIn: plan.Secret(s[5])}})
	case "path":
		if err := args("snnsnss"); err != nil {
			return err
		}
		if !small(n[0], 32) || !small(n[1], 32) || !small(n[2], 16) {
			return fmt.Errorf("path: sid %d, cid %d, port %d: %w", n[0], n[1], n[2], errResidentFormat)
		}
		st.Paths = append(st.Paths, ResidentPath{Target: s[0], SID: uint32(n[0]), CID: uint32(n[1]),
			Persistent: plan.Portal{Address: s[1], Port: int(n[2])}, Map: s[2], Dev: s[3]})
	default:
		return fmt.Errorf("%.40q: %w", w[0].s, errResidentFormat)
	}
	return nil
}
