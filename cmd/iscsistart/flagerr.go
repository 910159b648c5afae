package main

import (
	"errors"
	"flag"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The flag package reports a bad value as text that names the flag only as
// typed ("-d") and says little of what was wanted ("value out of range").
// Every value is therefore wrapped so that its Set error is kept, as one
// line with all the option's names, the value and what was expected:
//
//	invalid value "99999999999999999999" for -d/--debug: out of range

// checkedValue is a flag value whose Set error is kept in *err, worded for
// the console.
type checkedValue struct {
	flag.Value
	names string // "-d/--debug"
	err   *error // the first Set error
}

func (v checkedValue) Set(s string) error {
	err := v.Value.Set(s)
	if err != nil && *v.err == nil {
		*v.err = fmt.Errorf("invalid value %q for %s: %s", s, v.names, valueWant(v.Value, s, err))
	}
	return err
}

// IsBoolFlag keeps a boolean option one (-b without a value).
func (v checkedValue) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// valueWant says what a value of v's type must be, given the Set error err
// for s. Our own values' errors already say it.
func valueWant(v flag.Value, s string, err error) string {
	g, ok := v.(flag.Getter)
	if !ok {
		return err.Error()
	}
	switch g.Get().(type) {
	case bool:
		return "want true or false"
	case int:
		if _, perr := strconv.ParseInt(s, 0, strconv.IntSize); errors.Is(perr, strconv.ErrRange) {
			return "out of range"
		}
		return "want an integer"
	case time.Duration:
		return "want a duration such as 30s or 2m"
	}
	return err.Error()
}

// checkValues wraps every flag of fs in a checkedValue that keeps its error
// in *err; names are optionNames(fs), taken before.
func checkValues(fs *flag.FlagSet, names map[string]string, err *error) {
	fs.VisitAll(func(f *flag.Flag) { f.Value = checkedValue{Value: f.Value, names: names[f.Name], err: err} })
}

// optionNames maps each flag name to all the names of its option, short
// ones first, as a user types them: "-d/--debug", "-g/--tgpt/--tpgt",
// "--cmdline". Names are one option when they set the same variable.
func optionNames(fs *flag.FlagSet) map[string]string {
	byTarget := map[uintptr][]string{}
	fs.VisitAll(func(f *flag.Flag) {
		t := target(f.Value)
		byTarget[t] = append(byTarget[t], f.Name)
	})
	out := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) {
		group := []string{f.Name}
		if t := target(f.Value); t != 0 {
			group = append([]string(nil), byTarget[t]...)
		}
		sort.Slice(group, func(i, j int) bool {
			if len(group[i]) == 1 != (len(group[j]) == 1) {
				return len(group[i]) == 1
			}
			return group[i] < group[j]
		})
		for i, n := range group {
			group[i] = dashes(n)
		}
		out[f.Name] = strings.Join(group, "/")
	})
	return out
}

// target is the address of the variable flag value v sets: v itself for
// the flag package's values (pointers to the variable), the first field
// for ours (portValue{&o.port}); 0 if neither.
func target(v flag.Value) uintptr {
	r := reflect.ValueOf(v)
	if r.Kind() == reflect.Struct && r.NumField() > 0 {
		r = r.Field(0)
	}
	if r.Kind() == reflect.Pointer {
		return r.Pointer()
	}
	return 0
}

// dashes writes a flag name as a user types it: -d, --debug.
func dashes(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// flagError rewrites the flag package's other messages (those that are no
// value's Set error) into one line that names the option by all its names.
func flagError(err error, names map[string]string) string {
	s := err.Error()
	if name, ok := strings.CutPrefix(s, "flag provided but not defined: "); ok {
		return "unknown option " + name
	}
	if name, ok := strings.CutPrefix(s, "flag needs an argument: -"); ok {
		if n, ok := names[name]; ok {
			return "missing value for " + n
		}
	}
	return s
}
