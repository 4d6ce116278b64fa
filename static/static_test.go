package static

import (
	"bytes"
	"encoding/binary"
	"image/png"
	"io/fs"
	"path"
	"strings"
	"testing"
)

// TestGzipCopiesAreFresh fails when a text asset changed without its gzip
// copy being regenerated, or a copy outlived its asset.
func TestGzipCopiesAreFresh(t *testing.T) {
	checked := 0
	err := fs.WalkDir(Files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch path.Ext(name) {
		case ".gz":
			if _, err := fs.Stat(Files, strings.TrimSuffix(name, ".gz")); err != nil {
				t.Errorf("%s has no source asset; delete it", name)
			}
		case ".css", ".js":
			checked++
			if !GzipMatches(name) {
				t.Errorf("%s.gz is missing or stale: run `go generate ./static` and commit the result", name)
			}
			if a, ok := Lookup(URL(name)); !ok || a.Gzip != name+".gz" {
				t.Errorf("asset %s = %+v, want it served from %s.gz", name, a, name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 4 {
		t.Errorf("checked %d text assets, want app.css, app.js, htmx and pico at least", checked)
	}
}

// TestGzipMatchesRejectsStaleCopies shows the check above can fail: a copy of
// another file's bytes is not a copy of this one.
func TestGzipMatchesRejectsStaleCopies(t *testing.T) {
	if GzipMatches("favicon.svg") {
		t.Error("favicon.svg has no gzip copy, yet it matches")
	}
	if GzipMatches("missing.css") {
		t.Error("a missing file matches")
	}
}

// TestFaviconIsAnIcon reads favicon.ico as browsers do: an ICO directory
// whose entries are 32×32 and 16×16 PNG images.
func TestFaviconIsAnIcon(t *testing.T) {
	b, err := Files.ReadFile("favicon.ico")
	if err != nil {
		t.Fatal(err)
	}
	var hdr [3]uint16
	if err := binary.Read(bytes.NewReader(b), binary.LittleEndian, &hdr); err != nil || hdr[0] != 0 || hdr[1] != 1 || hdr[2] != 2 {
		t.Fatalf("ICO header %v (%v), want reserved 0, type 1, two images", hdr, err)
	}
	for i, want := range []int{32, 16} {
		e := b[6+16*i : 6+16*(i+1)]
		size := binary.LittleEndian.Uint32(e[8:])
		off := binary.LittleEndian.Uint32(e[12:])
		if int(e[0]) != want || int(off+size) > len(b) {
			t.Fatalf("entry %d: width %d, bytes %d at %d; want width %d within the file", i, e[0], size, off, want)
		}
		img, err := png.Decode(bytes.NewReader(b[off : off+size]))
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if r := img.Bounds(); r.Dx() != want || r.Dy() != want {
			t.Errorf("entry %d is %v, want %d×%d", i, r, want, want)
		}
		// The corners are transparent (rounded), the middle is opaque.
		if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
			t.Errorf("entry %d: corner alpha %d, want transparent", i, a)
		}
		if _, _, _, a := img.At(want/2, want/2).RGBA(); a != 0xffff {
			t.Errorf("entry %d: centre alpha %d, want opaque", i, a)
		}
	}
}
