package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"regexp"
)

// Word lists for Neon-looking ids such as "shiny-wind-028834".
var (
	adjectives = []string{
		"aged", "ancient", "autumn", "billowing", "bitter", "black", "blue", "bold",
		"broad", "calm", "cold", "cool", "crimson", "curly", "damp", "dark", "dawn",
		"delicate", "divine", "dry", "empty", "falling", "fancy", "flat", "floral",
		"fragrant", "frosty", "gentle", "green", "hidden", "holy", "icy", "jolly",
		"late", "lingering", "little", "lively", "long", "lucky", "misty", "morning",
		"muddy", "mute", "nameless", "noisy", "odd", "old", "orange", "patient",
		"plain", "polished", "proud", "purple", "quiet", "rapid", "raspy", "red",
		"restless", "rough", "round", "royal", "shiny", "shrill", "shy", "silent",
		"small", "snowy", "soft", "solitary", "sparkling", "spring", "square",
		"steep", "still", "summer", "super", "sweet", "throbbing", "tight", "tiny",
		"twilight", "wandering", "weathered", "white", "wild", "winter", "wispy",
		"withered", "yellow", "young",
	}
	nouns = []string{
		"art", "band", "bar", "base", "bird", "block", "boat", "bonus", "bread",
		"breeze", "brook", "bush", "butterfly", "cake", "cell", "cherry", "cloud",
		"credit", "darkness", "dawn", "dew", "disk", "dream", "dust", "feather",
		"field", "fire", "firefly", "flower", "fog", "forest", "frog", "frost",
		"glade", "glitter", "grass", "hall", "hat", "haze", "heart", "hill", "king",
		"lab", "lake", "leaf", "limit", "math", "meadow", "mode", "moon", "morning",
		"mountain", "mouse", "mud", "night", "paper", "pine", "poetry", "pond",
		"queen", "rain", "recipe", "resonance", "rice", "river", "salad", "scene",
		"sea", "shadow", "shape", "silence", "sky", "smoke", "snow", "snowflake",
		"sound", "star", "sun", "sunset", "surf", "term", "thunder", "tooth", "tree",
		"truth", "union", "unit", "violet", "voice", "water", "waterfall", "wave",
		"wildflower", "wind", "wood",
	}
)

// idPattern is the spec's pattern for project, branch and endpoint ids.
var idPattern = regexp.MustCompile(`^[a-z0-9-]{1,60}$`)

func twoWords() string {
	return adjectives[mrand.IntN(len(adjectives))] + "-" + nouns[mrand.IntN(len(nouns))]
}

// newProjectID returns an id like "shiny-wind-028834".
func newProjectID() string {
	return fmt.Sprintf("%s-%06d", twoWords(), mrand.IntN(1000000))
}

// newChildID returns an id like "br-aged-salad-a1b2c3d4" for the prefix "br".
func newChildID(prefix string) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	suffix := make([]byte, 8)
	for i := range suffix {
		suffix[i] = alphabet[mrand.IntN(len(alphabet))]
	}
	return prefix + "-" + twoWords() + "-" + string(suffix)
}

// randomToken returns prefix followed by n random bytes in hex, from the
// system's secure source: keys and codes must not be guessable.
func randomToken(prefix string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
