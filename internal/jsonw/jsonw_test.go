package jsonw

import (
	"bytes"
	"encoding/json"
	"testing"
)

// reference is what encoding/json writes for v without HTML escapes.
func reference(t testing.TB, v any, indent string) []byte {
	t.Helper()
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	e.SetIndent("", indent)
	if err := e.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

var stringSeeds = []string{"", "iqn.2009-06.dracut:target0", `a"b\c`, "<redacted> & >", "\x00\x01\b\f\n\r\t\x1f\x7f",
	"caf\u00e9 \u2028\u2029 \U0001F600", "\xff\xfe bad \xc3", "\u2027\u202a"}

func TestString(t *testing.T) {
	for _, s := range stringSeeds {
		if got, want := String(nil, s), reference(t, s, ""); !bytes.Equal(got, want) {
			t.Errorf("String(%q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzString(f *testing.F) {
	for _, s := range stringSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := String(nil, s), reference(t, s, ""); !bytes.Equal(got, want) {
			t.Errorf("String(%q) = %s, want %s", s, got, want)
		}
	})
}

func TestIndent(t *testing.T) {
	type inner struct {
		A []string       `json:"a"`
		E []string       `json:"e"`
		N []string       `json:"n"`
		M map[string]int `json:"m"`
		O map[string]int `json:"o"`
	}
	for _, v := range []any{
		map[string]any{"x": 1, "y": []any{}, "z": map[string]any{}, "w": "a,b:{c}[d] \"q\" \\"},
		[]inner{{A: []string{"x", "y"}, E: []string{}, M: map[string]int{"k": 1, "l": 2}, O: map[string]int{}}, {}},
		[]any{},
		"plain",
	} {
		compact := reference(t, v, "")
		for _, indent := range []string{"  ", "\t"} {
			if got, want := Indent(compact, "", indent), reference(t, v, indent); !bytes.Equal(got, want) {
				t.Errorf("Indent(%s) =\n%s\nwant\n%s", compact, got, want)
			}
		}
	}
}

func TestArrays(t *testing.T) {
	for _, s := range [][]string{nil, {}, {"a", "b\n"}} {
		if got, want := Strings(nil, s), reference(t, s, ""); !bytes.Equal(got, want) {
			t.Errorf("Strings(%q) = %s, want %s", s, got, want)
		}
	}
	b := Key(nil, "n", true)
	b = Int(b, -3)
	b = Key(b, "u", false)
	b = Uint(b, 1<<63)
	b = Key(b, "t", false)
	b = Bool(b, true)
	if got, want := "{"+string(b)+"}", `{"n":-3,"u":9223372036854775808,"t":true}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
