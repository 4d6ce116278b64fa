package db

import (
	"reflect"
	"testing"
)

// TestColumnListsAreConsistent checks each table's column list names every
// column once and scans each into a place of its own, so that a column added
// by copying an entry cannot silently overwrite another's field.
func TestColumnListsAreConsistent(t *testing.T) {
	for gen, s := range specs {
		var u UserRow
		names := map[string]bool{}
		dests := map[uintptr]string{}
		for _, c := range s.cols {
			if c.name == "" || c.sel == "" || c.dest == nil {
				t.Errorf("%s: incomplete column %+v", gen, c)
				continue
			}
			if names[c.name] {
				t.Errorf("%s: column %s listed twice", gen, c.name)
			}
			names[c.name] = true
			p := reflect.ValueOf(c.dest(&u)).Pointer()
			if other, ok := dests[p]; ok {
				t.Errorf("%s: columns %s and %s scan into the same field", gen, other, c.name)
			}
			dests[p] = c.name
		}
		for _, need := range []string{"id", "email", "created_at"} {
			if !names[need] {
				t.Errorf("%s: no %s column", gen, need)
			}
		}
	}
}
