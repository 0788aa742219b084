package main

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

func defaults(length int) Params {
	return Params{Length: length, Upper: true, Lower: true, Numeric: true, Special: true}
}

func mustGenerate(t *testing.T, p Params) string {
	t.Helper()
	s, err := Generate(p)
	if err != nil {
		t.Fatalf("Generate(%+v): %v", p, err)
	}
	return s
}

func countIn(s, set string) int {
	n := 0
	for _, r := range s {
		if strings.ContainsRune(set, r) {
			n++
		}
	}
	return n
}

func TestGenerateLengthExact(t *testing.T) {
	for _, n := range []int{1, 2, 16, 32, 100, 1000} {
		if got := utf8.RuneCountInString(mustGenerate(t, defaults(n))); got != n {
			t.Errorf("length %d: got %d characters", n, got)
		}
	}
}

func TestGenerateExcludesDisabledClasses(t *testing.T) {
	cases := []struct {
		name    string
		p       Params
		allowed string
	}{
		{"no special", Params{Length: 64, Upper: true, Lower: true, Numeric: true}, upperChars + lowerChars + numericChars},
		{"upper only", Params{Length: 64, Upper: true}, upperChars},
		{"lower only", Params{Length: 64, Lower: true}, lowerChars},
		{"numeric only", Params{Length: 64, Numeric: true}, numericChars},
		{"special only", Params{Length: 64, Special: true}, defaultSpecialChars},
	}
	for _, c := range cases {
		for range 50 {
			s := mustGenerate(t, c.p)
			if got := countIn(s, c.allowed); got != c.p.Length {
				t.Fatalf("%s: %d of %d characters outside the allowed set in %q", c.name, c.p.Length-got, c.p.Length, s)
			}
		}
	}
}

func TestGenerateHonoursMinimums(t *testing.T) {
	p := defaults(10)
	p.MinUpper, p.MinLower, p.MinNumeric, p.MinSpecial = 2, 3, 2, 3
	for range 200 {
		s := mustGenerate(t, p)
		if countIn(s, upperChars) < 2 || countIn(s, lowerChars) < 3 || countIn(s, numericChars) < 2 || countIn(s, defaultSpecialChars) < 3 {
			t.Fatalf("minimums not met in %q", s)
		}
	}
	// A minimum applies even to a disabled class, as in Terraform's provider.
	q := Params{Length: 8, Lower: true, MinNumeric: 3}
	for range 100 {
		s := mustGenerate(t, q)
		if countIn(s, numericChars) != 3 || countIn(s, lowerChars) != 5 {
			t.Fatalf("want 3 digits and 5 lowercase letters, got %q", s)
		}
	}
}

func TestGenerateOverrideSpecial(t *testing.T) {
	only := Params{Length: 20, Special: true, OverrideSpecial: "#"}
	if s := mustGenerate(t, only); s != strings.Repeat("#", 20) {
		t.Fatalf("special-only with overrideSpecial \"#\": got %q", s)
	}
	p := defaults(40)
	p.OverrideSpecial, p.MinSpecial = "~é", 5
	for range 100 {
		s := mustGenerate(t, p)
		if countIn(s, defaultSpecialChars) != 0 {
			t.Fatalf("default special characters used despite overrideSpecial: %q", s)
		}
		if countIn(s, "~é") < 5 {
			t.Fatalf("minSpecial not met from overrideSpecial: %q", s)
		}
		if utf8.RuneCountInString(s) != 40 {
			t.Fatalf("multi-byte overrideSpecial changed the length: %q", s)
		}
	}
}

func TestGenerateShufflesMinimums(t *testing.T) {
	// One uppercase letter among lowercase: it must land in every position.
	p := Params{Length: 4, Lower: true, MinUpper: 1}
	seen := map[int]bool{}
	for range 400 {
		s := mustGenerate(t, p)
		seen[strings.IndexAny(s, upperChars)] = true
	}
	for i := range 4 {
		if !seen[i] {
			t.Errorf("the required uppercase letter never landed at index %d", i)
		}
	}
}

func TestGenerateDiffers(t *testing.T) {
	a, b := mustGenerate(t, defaults(32)), mustGenerate(t, defaults(32))
	if a == b {
		t.Fatal("two generated values are equal")
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name, property, reason string
		p                      Params
	}{
		{"zero length", "length", "at least 1", Params{Length: 0, Lower: true}},
		{"minimums exceed length", "length", "minUpper + minLower", Params{Length: 3, Lower: true, MinUpper: 2, MinLower: 2}},
		{"no class", "", "at least one of", Params{Length: 3}},
		{"negative minimum", "minSpecial", "must not be negative", Params{Length: 3, Lower: true, MinSpecial: -1}},
	}
	for _, c := range cases {
		probs := c.p.Validate()
		if len(probs) != 1 || probs[0].Property != c.property || !strings.Contains(probs[0].Reason, c.reason) {
			t.Errorf("%s: got %+v, want one problem on %q containing %q", c.name, probs, c.property, c.reason)
		}
		if _, err := Generate(c.p); err == nil {
			t.Errorf("%s: Generate accepted invalid settings", c.name)
		}
	}
	if probs := defaults(4).Validate(); len(probs) != 0 {
		t.Errorf("defaults rejected: %+v", probs)
	}
}

func TestBcryptHashVerifies(t *testing.T) {
	for _, n := range []int{32, 100} { // 100 exceeds bcrypt's 72-byte input
		v := mustGenerate(t, defaults(n))
		h, err := BcryptHash(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := bcrypt.CompareHashAndPassword([]byte(h), []byte(v)); err != nil {
			t.Errorf("length %d: hash does not verify: %v", n, err)
		}
		if cost, _ := bcrypt.Cost([]byte(h)); cost != bcrypt.DefaultCost {
			t.Errorf("cost %d, want %d", cost, bcrypt.DefaultCost)
		}
		if bcrypt.CompareHashAndPassword([]byte(h), []byte("x"+v)) == nil {
			t.Error("hash verifies against a different value")
		}
	}
}
