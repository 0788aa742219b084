package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"

	"golang.org/x/crypto/bcrypt"
)

// Character classes, identical to terraform-provider-random, which Pulumi's
// random provider wraps.
const (
	upperChars          = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lowerChars          = "abcdefghijklmnopqrstuvwxyz"
	numericChars        = "0123456789"
	defaultSpecialChars = "!@#$%&*()-_=+[]{}<>:?"
)

// bcryptMaxBytes is the longest input bcrypt reads; newer x/crypto rejects
// longer inputs instead of truncating them as older versions did.
const bcryptMaxBytes = 72

// Params are the generator settings, with every default already applied.
type Params struct {
	Length                                     int
	Upper, Lower, Numeric, Special             bool
	MinUpper, MinLower, MinNumeric, MinSpecial int
	OverrideSpecial                            string
}

// Problem is a validation failure for one input property.
type Problem struct {
	Property string
	Reason   string
}

// specialChars is the special class: overrideSpecial when not empty.
func (p Params) specialChars() string {
	if p.OverrideSpecial != "" {
		return p.OverrideSpecial
	}
	return defaultSpecialChars
}

// pool is the set the characters beyond the minimums are drawn from.
func (p Params) pool() []rune {
	var s string
	if p.Upper {
		s += upperChars
	}
	if p.Lower {
		s += lowerChars
	}
	if p.Numeric {
		s += numericChars
	}
	if p.Special {
		s += p.specialChars()
	}
	return []rune(s)
}

// Validate reports every reason the settings cannot produce a string.
func (p Params) Validate() []Problem {
	var probs []Problem
	if p.Length < 1 {
		probs = append(probs, Problem{"length", fmt.Sprintf("length must be at least 1, got %d", p.Length)})
	}
	mins := []struct {
		name string
		n    int
	}{{"minUpper", p.MinUpper}, {"minLower", p.MinLower}, {"minNumeric", p.MinNumeric}, {"minSpecial", p.MinSpecial}}
	sum := 0
	for _, m := range mins {
		if m.n < 0 {
			probs = append(probs, Problem{m.name, fmt.Sprintf("%s must not be negative, got %d", m.name, m.n)})
		}
		sum += m.n
	}
	if p.Length >= 1 && sum > p.Length {
		probs = append(probs, Problem{"length", fmt.Sprintf(
			"length (%d) must be at least minUpper + minLower + minNumeric + minSpecial (%d)", p.Length, sum)})
	}
	if !p.Upper && !p.Lower && !p.Numeric && !p.Special {
		probs = append(probs, Problem{"", "at least one of upper, lower, numeric or special must be true"})
	}
	return probs
}

// Generate returns a random string: the minimum count of each class first
// (drawn from that class even when it is disabled, as Terraform's provider
// does), the rest from the enabled classes, then shuffled.
func Generate(p Params) (string, error) {
	if probs := p.Validate(); len(probs) > 0 {
		return "", errors.New(probs[0].Reason)
	}
	out := make([]rune, 0, p.Length)
	for _, m := range []struct {
		chars string
		n     int
	}{{upperChars, p.MinUpper}, {lowerChars, p.MinLower}, {numericChars, p.MinNumeric}, {p.specialChars(), p.MinSpecial}} {
		var err error
		if out, err = appendRandom(out, []rune(m.chars), m.n); err != nil {
			return "", err
		}
	}
	out, err := appendRandom(out, p.pool(), p.Length-len(out))
	if err != nil {
		return "", err
	}
	if err := shuffle(out); err != nil {
		return "", err
	}
	return string(out), nil
}

// BcryptHash hashes a generated value at the default cost. Only the first 72
// bytes count, which is what bcrypt always did, so the hash still verifies
// against the whole value.
func BcryptHash(value string) (string, error) {
	b := []byte(value)
	if len(b) > bcryptMaxBytes {
		b = b[:bcryptMaxBytes]
	}
	h, err := bcrypt.GenerateFromPassword(b, bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("bcrypt hash: %w", err)
	}
	return string(h), nil
}

// appendRandom appends n characters chosen uniformly from set.
func appendRandom(out, set []rune, n int) ([]rune, error) {
	for range n {
		i, err := randIndex(len(set))
		if err != nil {
			return nil, err
		}
		out = append(out, set[i])
	}
	return out, nil
}

// shuffle is a Fisher-Yates shuffle driven by crypto/rand.
func shuffle(s []rune) error {
	for i := len(s) - 1; i > 0; i-- {
		j, err := randIndex(i + 1)
		if err != nil {
			return err
		}
		s[i], s[j] = s[j], s[i]
	}
	return nil
}

// randIndex returns a uniform integer in [0, n); rand.Int is unbiased.
func randIndex(n int) (int, error) {
	if n <= 0 {
		return 0, errors.New("empty character set")
	}
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return 0, fmt.Errorf("read crypto/rand: %w", err)
	}
	return int(v.Int64()), nil
}
