package main

import (
	"errors"
	"fmt"
	"strings"
)

// nodeOptions are the `runtime.options` of Pulumi.yaml that change how the program runs,
// read as Pulumi's host reads them.
type nodeOptions struct {
	// typescript (default true): the SDK registers its vendored ts-node.
	typescript bool
	// tsconfig: the tsconfig file ts-node uses.
	tsconfig string
	// nodeargs: extra arguments for node, split like a shell would (no expansion).
	nodeargs []string
}

var knownPackageManagers = map[string]bool{"auto": true, "npm": true, "yarn": true, "pnpm": true, "bun": true}

func parseOptions(options map[string]any) (nodeOptions, error) {
	opts := nodeOptions{typescript: true}
	if v, ok := options["typescript"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			return opts, errors.New("typescript option must be a boolean")
		}
		opts.typescript = b
	}
	if v, ok := options["tsconfig"]; ok {
		s, isString := v.(string)
		if !isString {
			return opts, errors.New("tsconfig option must be a string")
		}
		opts.tsconfig = s
	}
	if v, ok := options["nodeargs"]; ok {
		s, isString := v.(string)
		if !isString {
			return opts, errors.New("nodeargs option must be a string")
		}
		args, err := splitArgs(s)
		if err != nil {
			return opts, fmt.Errorf("nodeargs option: %w", err)
		}
		opts.nodeargs = args
	}
	// Only used for installing, which this host leaves to `npm ci`; still checked, so a
	// typo fails here as it does with Pulumi's host.
	if v, ok := options["packagemanager"]; ok {
		s, isString := v.(string)
		if !isString {
			return opts, errors.New("packagemanager option must be a string")
		}
		if !knownPackageManagers[s] {
			return opts, fmt.Errorf("packagemanager option must be one of auto, npm, yarn, pnpm or bun, got %q", s)
		}
	}
	if v, ok := options["production"]; ok {
		if _, isBool := v.(bool); !isBool {
			return opts, errors.New("production option must be a boolean")
		}
	}
	return opts, nil
}

// splitArgs splits a command line into words: blanks separate words, single quotes keep
// everything literally, double quotes keep blanks and honour \" and \\, a backslash
// outside quotes escapes the next character. Nothing is expanded.
func splitArgs(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	const (
		plain = iota
		single
		double
	)
	state := plain
	runes := []rune(s)
	for i := 0; i < len(runes); i++ {
		r := runes[i]
		switch state {
		case single:
			if r == '\'' {
				state = plain
			} else {
				cur.WriteRune(r)
			}
		case double:
			switch {
			case r == '"':
				state = plain
			case r == '\\' && i+1 < len(runes) && (runes[i+1] == '"' || runes[i+1] == '\\'):
				i++
				cur.WriteRune(runes[i])
			default:
				cur.WriteRune(r)
			}
		default:
			switch {
			case r == ' ' || r == '\t' || r == '\n':
				if inWord {
					words = append(words, cur.String())
					cur.Reset()
					inWord = false
				}
			case r == '\'':
				state, inWord = single, true
			case r == '"':
				state, inWord = double, true
			case r == '\\':
				if i+1 >= len(runes) {
					return nil, errors.New("trailing backslash")
				}
				i++
				cur.WriteRune(runes[i])
				inWord = true
			default:
				cur.WriteRune(r)
				inWord = true
			}
		}
	}
	if state != plain {
		return nil, errors.New("unterminated quote")
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
