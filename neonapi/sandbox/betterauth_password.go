package sandbox

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/scrypt"
	"golang.org/x/text/unicode/norm"
)

// Better Auth's password hash parameters (@better-auth/utils/password): scrypt
// with N=16384, r=16, p=1 and a 64-byte key.
const (
	scryptN      = 16384
	scryptR      = 16
	scryptP      = 1
	scryptKeyLen = 64
	saltBytes    = 16
)

// HashPassword hashes a password exactly as Better Auth stores it in
// neon_auth.account.password: "<salt>:<key>", the salt 16 random bytes in
// hex and the key scrypt's, both lower-case hex. The password is NFKC
// normalised first, and the salt is used as its hex text, not its bytes, as
// Better Auth does; a hash made here verifies in Better Auth and the other
// way round.
func HashPassword(password string) (string, error) {
	b := make([]byte, saltBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("sandbox: password salt: %w", err)
	}
	salt := hex.EncodeToString(b)
	key, err := passwordKey(password, salt)
	if err != nil {
		return "", err
	}
	return salt + ":" + hex.EncodeToString(key), nil
}

// VerifyPassword reports whether password matches a hash in Better Auth's
// format. A hash without both parts is an error, as it is in Better Auth.
func VerifyPassword(hash, password string) (bool, error) {
	salt, keyHex, ok := strings.Cut(hash, ":")
	if !ok || salt == "" || keyHex == "" {
		return false, errors.New("sandbox: invalid password hash")
	}
	// Better Auth splits on every ":" and reads the first two parts.
	keyHex, _, _ = strings.Cut(keyHex, ":")
	key, err := passwordKey(password, salt)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare([]byte(hex.EncodeToString(key)), []byte(keyHex)) == 1, nil
}

func passwordKey(password, salt string) ([]byte, error) {
	key, err := scrypt.Key([]byte(norm.NFKC.String(password)), []byte(salt), scryptN, scryptR, scryptP, scryptKeyLen)
	if err != nil {
		return nil, fmt.Errorf("sandbox: scrypt: %w", err)
	}
	return key, nil
}
