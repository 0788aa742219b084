package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseOptionsDefaultsToTypeScript(t *testing.T) {
	opts, err := parseOptions(map[string]any{})
	if err != nil || !opts.typescript || opts.tsconfig != "" || opts.nodeargs != nil {
		t.Fatalf("parseOptions({}) = %+v, %v; want typescript on, nothing else", opts, err)
	}
}

func TestParseOptionsReadsPulumiYamlOptions(t *testing.T) {
	opts, err := parseOptions(map[string]any{
		"typescript": false, "tsconfig": "tsconfig.pulumi.json", "nodeargs": "--max-old-space-size=4096 --enable-source-maps",
		"packagemanager": "npm", "production": true,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := nodeOptions{typescript: false, tsconfig: "tsconfig.pulumi.json", nodeargs: []string{"--max-old-space-size=4096", "--enable-source-maps"}}
	if !reflect.DeepEqual(opts, want) {
		t.Fatalf("parseOptions = %+v, want %+v", opts, want)
	}
}

func TestParseOptionsRefusesWrongTypes(t *testing.T) {
	cases := map[string]map[string]any{
		"typescript option must be a boolean":    {"typescript": "yes"},
		"tsconfig option must be a string":       {"tsconfig": 1.0},
		"nodeargs option must be a string":       {"nodeargs": []any{"--x"}},
		"nodeargs option: unterminated quote":    {"nodeargs": `--title "odoo`},
		"packagemanager option must be one of":   {"packagemanager": "cargo"},
		"packagemanager option must be a string": {"packagemanager": true},
		"production option must be a boolean":    {"production": "true"},
	}
	for want, options := range cases {
		_, err := parseOptions(options)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseOptions(%v) error = %v, want one containing %q", options, err, want)
		}
	}
}

func TestSplitArgs(t *testing.T) {
	cases := map[string][]string{
		"":                          nil,
		"  ":                        nil,
		"--a  --b\t--c":             {"--a", "--b", "--c"},
		`--title "two words"`:       {"--title", "two words"},
		`'$HOME stays' "\"q\" \\"`:  {"$HOME stays", `"q" \`},
		`a\ b c`:                    {"a b", "c"},
		`--x='' end`:                {"--x=", "end"},
		`"" x`:                      {"", "x"},
		"--inspect=127.0.0.1:9229 ": {"--inspect=127.0.0.1:9229"},
	}
	for in, want := range cases {
		got, err := splitArgs(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("splitArgs(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`"open`, `'open`, `trailing\`} {
		if got, err := splitArgs(bad); err == nil {
			t.Errorf("splitArgs(%q) = %q, want an error", bad, got)
		}
	}
}
