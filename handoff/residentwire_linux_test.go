package handoff

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/iscsiboot/iscsiboot/plan"
)

// hostileState holds every byte a word could trip on: quotes, spaces,
// newlines, backslashes, invalid UTF-8, the largest numbers.
func hostileState() ResidentState {
	return ResidentState{Handle: 1<<64 - 1, Plan: plan.Plan{Initiator: "iqn.2025-01.test:i \"x\"", Transport: "tcp",
		Params: map[string]string{"node.session.auth.chap_algs": "SHA256,MD5", "k\nend": "v \\ \"w\"\x00\xff"},
		Targets: []plan.Target{
			{Name: "iqn.2025-01.test:t", TPGT: 65535, Auth: plan.Auth{Method: plan.AuthCHAP, Username: "u\nend", Password: "pw secret\"1",
				UsernameIn: "t", PasswordIn: "pw-secret-2\r\n"}},
			{Name: "iqn.2025-01.test:none"},
		}},
		Paths: []ResidentPath{
			{Target: "iqn.2025-01.test:t", SID: 1<<32 - 1, CID: 7, Persistent: plan.Portal{Address: "fd00::2", Port: 65535},
				Map: "3600140512345678", Dev: "8:16"},
			{Target: "iqn.2025-01.test:none", Persistent: plan.Portal{Address: "10.0.2.2", Port: 3260}},
		}}
}

func TestResidentWireRoundTrip(t *testing.T) {
	for _, st := range []ResidentState{{}, hostileState()} {
		var b bytes.Buffer
		if err := st.Encode(&b); err != nil {
			t.Fatal(err)
		}
		got, err := DecodeResidentState(&b)
		if err != nil {
			t.Fatalf("%v\n%s", err, b.String())
		}
		if !reflect.DeepEqual(got, st) {
			t.Errorf("got %+v, want %+v", got, st)
		}
	}
}

// The writer keeps the pipe open: the end line, not end of file, ends the
// state.
func TestResidentWireOpenPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	st := hostileState()
	if err := st.Encode(w); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := DecodeResidentState(r)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("decode waits for the end of the pipe")
	}
}

func TestResidentWireErrors(t *testing.T) {
	const head = residentMagic + "\n"
	for _, tc := range []struct {
		name, in string
		want     error
	}{
		{"empty", "", errResidentFormat},
		{"json of old", `{"initiator":"x"}`, errResidentFormat},
		{"no end", head + "initiator \"x\"\n", errResidentEnd},
		{"unknown line", head + "secret \"x\"\nend\n", errResidentFormat},
		{"bare string", head + "initiator x\nend\n", errResidentFormat},
		{"quoted number", head + "handle \"1\"\nend\n", errResidentFormat},
		{"open quote", head + "initiator \"x\nend\n", errResidentFormat},
		{"too many words", head + "initiator \"x\" \"y\"\nend\n", errResidentFormat},
		{"negative", head + "handle -1\nend\n", errResidentFormat},
		{"tpgt too big", head + "target \"t\" 65536 \"\" \"\" \"\" \"\" \"\"\nend\n", errResidentFormat},
		{"port too big", head + "path \"t\" 1 0 \"a\" 65536 \"\" \"\"\nend\n", errResidentFormat},
		{"sid too big", head + "path \"t\" 4294967296 0 \"a\" 1 \"\" \"\"\nend\n", errResidentFormat},
		{"quoted end", head + "\"end\"\n", errResidentFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeResidentState(strings.NewReader(tc.in))
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func FuzzDecodeResidentState(f *testing.F) {
	var b bytes.Buffer
	hostileState().Encode(&b)
	f.Add(b.Bytes())
	f.Add([]byte(residentMagic + "\nhandle 1\nend\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := DecodeResidentState(bytes.NewReader(data))
		if err != nil {
			return
		}
		var again bytes.Buffer
		if err := st.Encode(&again); err != nil {
			t.Fatal(err)
		}
		st2, err := DecodeResidentState(&again)
		if err != nil {
			t.Fatalf("re-decode: %v\n%s", err, again.String())
		}
		if !reflect.DeepEqual(st, st2) {
			t.Errorf("round trip:\n%+v\n%+v", st, st2)
		}
	})
}
