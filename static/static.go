// Package static holds the dashboard's browser assets, embedded in the binary so a
// deployment is one file. Assets are addressed by content-hashed paths so browsers
// may cache them forever and still pick up a new release at once.
package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io"
	"io/fs"
	"path"
	"strings"
	"sync"
)

// The gzip copies and favicon.ico are derived from the other files; after
// changing one of those, regenerate them and commit the result.
//go:generate go run ./internal/assetgen

// Files is the embedded asset tree: app.css, app.js, the icon, the vendored
// libraries, and a gzip copy (NAME.gz) of each text asset.
//
//go:embed app.css app.js favicon.svg favicon.ico vendor/htmx-2.0.11.min.js vendor/pico-2.1.1.min.css
//go:embed *.gz vendor/*.gz
var Files embed.FS

// Prefix is the URL path under which assets are served.
const Prefix = "/static/"

// Asset is one embedded file and its hashed URL path.
type Asset struct {
	Name string // path inside Files, e.g. "vendor/pico-2.1.1.min.css"
	URL  string // e.g. "/static/vendor/pico-2.1.1.min.3f2a9c1b04de.css"
	// Gzip names the file's gzip copy inside Files; empty when there is none,
	// or when it does not hold exactly the file's bytes (a stale copy is
	// never served).
	Gzip string
}

var (
	indexOnce sync.Once
	byName    map[string]Asset
	byURL     map[string]Asset
)

// index hashes every asset once; the tree is tiny and immutable.
func index() {
	byName = map[string]Asset{}
	byURL = map[string]Asset{}
	_ = fs.WalkDir(Files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(name) == ".gz" {
			return err
		}
		b, err := Files.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a := Asset{Name: name, URL: Prefix + hashedName(name, hex.EncodeToString(sum[:6]))}
		if GzipMatches(name) {
			a.Gzip = name + ".gz"
		}
		byName[name] = a
		byURL[a.URL] = a
		return nil
	})
}

// hashedName inserts the hash before the extension: app.css → app.<hash>.css.
func hashedName(name, hash string) string {
	ext := path.Ext(name)
	return strings.TrimSuffix(name, ext) + "." + hash + ext
}

// URL returns the hashed URL of the named asset. An unknown name returns the
// unhashed path, which the server answers with 404, so a typo shows up in tests
// rather than panicking at render time.
func URL(name string) string {
	indexOnce.Do(index)
	if a, ok := byName[name]; ok {
		return a.URL
	}
	return Prefix + name
}

// Lookup finds the asset a hashed URL path refers to.
func Lookup(urlPath string) (Asset, bool) {
	indexOnce.Do(index)
	a, ok := byURL[urlPath]
	return a, ok
}

// GzipMatches reports whether the named file has a gzip copy in Files that
// holds exactly its bytes and is smaller.
func GzipMatches(name string) bool {
	src, err := Files.ReadFile(name)
	if err != nil {
		return false
	}
	gz, err := Files.ReadFile(name + ".gz")
	if err != nil || len(gz) >= len(src) {
		return false
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return false
	}
	got, err := io.ReadAll(io.LimitReader(zr, int64(len(src))+1))
	return err == nil && bytes.Equal(got, src)
}
