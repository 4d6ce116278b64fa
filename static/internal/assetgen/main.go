// Command assetgen writes the static assets derived from others: favicon.ico,
// drawn from the same shapes as favicon.svg, and a gzip copy (NAME.gz) of
// every text asset, which the server sends to browsers that accept gzip.
//
// Run it from the static directory with `go generate ./static`; the output is
// committed and a test in package static fails when it is stale.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"log"
	"os"
	"path/filepath"
)

func main() {
	ico, err := favicon(32, 16)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("favicon.ico", ico, 0o644); err != nil {
		log.Fatal(err)
	}
	err = filepath.WalkDir(".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			if d != nil && d.IsDir() && d.Name() == "internal" {
				return filepath.SkipDir
			}
			return err
		}
		if !compressible(name) {
			return nil
		}
		src, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		gz, err := gzipBytes(src)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return os.WriteFile(name+".gz", gz, 0o644)
	})
	if err != nil {
		log.Fatal(err)
	}
}

// compressible lists the text assets; keep it in step with the test in
// package static that checks every one has a fresh .gz.
func compressible(name string) bool {
	switch filepath.Ext(name) {
	case ".css", ".js":
		return true
	}
	return false
}

// gzipBytes compresses b as tightly as compress/gzip can. The header carries
// no name and no time, so the output depends on the input alone.
func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// The icon's shapes in favicon.svg's 32×32 viewBox: a rounded square and an N.
var (
	background = color.NRGBA{0x00, 0xe5, 0x99, 0xff}
	foreground = color.NRGBA{0x0c, 0x0d, 0x0d, 0xff}
	letterN    = [][2]float64{{8, 8}, {12, 8}, {20, 19}, {20, 8}, {24, 8}, {24, 24}, {20, 24}, {12, 13}, {12, 24}, {8, 24}}
)

const cornerRadius = 7

// favicon draws the icon at each size and packs the PNGs into an ICO file,
// which every browser reads at /favicon.ico.
func favicon(sizes ...int) ([]byte, error) {
	var pngs [][]byte
	for _, size := range sizes {
		var buf bytes.Buffer
		if err := png.Encode(&buf, draw(size)); err != nil {
			return nil, err
		}
		pngs = append(pngs, buf.Bytes())
	}
	var out bytes.Buffer
	le := binary.LittleEndian
	_ = binary.Write(&out, le, [3]uint16{0, 1, uint16(len(sizes))}) // reserved, type icon, count
	offset := 6 + 16*len(sizes)
	for i, size := range sizes {
		entry := struct {
			W, H, Colors, Reserved uint8
			Planes, BitCount       uint16
			Size, Offset           uint32
		}{uint8(size), uint8(size), 0, 0, 1, 32, uint32(len(pngs[i])), uint32(offset)}
		_ = binary.Write(&out, le, entry)
		offset += len(pngs[i])
	}
	for _, p := range pngs {
		out.Write(p)
	}
	return out.Bytes(), nil
}

// draw renders the icon at size×size, four by four samples a pixel.
func draw(size int) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	const samples = 4
	scale := 32 / float64(size)
	for y := range size {
		for x := range size {
			var bg, fg int
			for sy := range samples {
				for sx := range samples {
					px := (float64(x) + (float64(sx)+0.5)/samples) * scale
					py := (float64(y) + (float64(sy)+0.5)/samples) * scale
					switch {
					case inside(letterN, px, py):
						fg++
					case inRoundedSquare(px, py):
						bg++
					}
				}
			}
			img.SetNRGBA(x, y, blend(bg, fg, samples*samples))
		}
	}
	return img
}

// blend mixes the covered samples into one straight-alpha pixel.
func blend(bg, fg, total int) color.NRGBA {
	covered := bg + fg
	if covered == 0 {
		return color.NRGBA{}
	}
	mix := func(b, f uint8) uint8 { return uint8((int(b)*bg + int(f)*fg) / covered) }
	return color.NRGBA{
		R: mix(background.R, foreground.R),
		G: mix(background.G, foreground.G),
		B: mix(background.B, foreground.B),
		A: uint8(255 * covered / total),
	}
}

func inRoundedSquare(x, y float64) bool {
	cx := min(max(x, cornerRadius), 32-cornerRadius)
	cy := min(max(y, cornerRadius), 32-cornerRadius)
	dx, dy := x-cx, y-cy
	return x >= 0 && y >= 0 && x <= 32 && y <= 32 && dx*dx+dy*dy <= cornerRadius*cornerRadius
}

// inside is the even-odd rule for a simple polygon.
func inside(poly [][2]float64, x, y float64) bool {
	in := false
	for i, j := 0, len(poly)-1; i < len(poly); j, i = i, i+1 {
		xi, yi, xj, yj := poly[i][0], poly[i][1], poly[j][0], poly[j][1]
		if (yi > y) != (yj > y) && x < (xj-xi)*(y-yi)/(yj-yi)+xi {
			in = !in
		}
	}
	return in
}
