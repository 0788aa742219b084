package main

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Input property names, as @pulumi/random 4.21.2 sends them on the wire.
const (
	keyKeepers         = "keepers"
	keyLength          = "length"
	keyLower           = "lower"
	keyMinLower        = "minLower"
	keyMinNumeric      = "minNumeric"
	keyMinSpecial      = "minSpecial"
	keyMinUpper        = "minUpper"
	keyNumber          = "number"
	keyNumeric         = "numeric"
	keyOverrideSpecial = "overrideSpecial"
	keySpecial         = "special"
	keyUpper           = "upper"

	keyResult     = "result"
	keyBcryptHash = "bcryptHash"
)

// inputKeys lists every input, in the order Diff reports them.
var inputKeys = []resource.PropertyKey{
	keyKeepers, keyLength, keyLower, keyMinLower, keyMinNumeric, keyMinSpecial,
	keyMinUpper, keyNumber, keyNumeric, keyOverrideSpecial, keySpecial, keyUpper,
}

var (
	boolKeys = []resource.PropertyKey{keyLower, keyNumber, keyNumeric, keySpecial, keyUpper}
	intKeys  = []resource.PropertyKey{keyLength, keyMinLower, keyMinNumeric, keyMinSpecial, keyMinUpper}
)

// checkInputs applies the provider's defaults to news and validates them.
// Unknown values (during preview) are passed through and not validated.
func checkInputs(news resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	out := resource.PropertyMap{}
	var fails []*pulumirpc.CheckFailure
	fail := func(prop, reason string) {
		fails = append(fails, &pulumirpc.CheckFailure{Property: prop, Reason: reason})
	}

	known := map[resource.PropertyKey]bool{}
	for _, k := range inputKeys {
		known[k] = true
	}
	for _, k := range news.StableKeys() {
		v := news[k]
		switch {
		case strings.HasPrefix(string(k), "__"):
			// Engine-internal keys (e.g. __defaults) are not inputs.
		case !known[k]:
			fail(string(k), fmt.Sprintf("unknown property %q", k))
		case !v.IsNull():
			out[k] = v
		}
	}

	if _, ok := out[keyLength]; !ok {
		fail(keyLength, "missing required property 'length'")
	}
	for _, k := range []resource.PropertyKey{keyLower, keySpecial, keyUpper} {
		if _, ok := out[k]; !ok {
			out[k] = resource.NewBoolProperty(true)
		}
	}
	for _, k := range []resource.PropertyKey{keyMinLower, keyMinNumeric, keyMinSpecial, keyMinUpper} {
		if _, ok := out[k]; !ok {
			out[k] = resource.NewNumberProperty(0)
		}
	}
	// number is the deprecated alias of numeric: either one sets both.
	num, hasNum := out[keyNumber]
	numeric, hasNumeric := out[keyNumeric]
	switch {
	case !hasNum && !hasNumeric:
		out[keyNumber], out[keyNumeric] = resource.NewBoolProperty(true), resource.NewBoolProperty(true)
	case !hasNumeric:
		out[keyNumeric] = num
	case !hasNum:
		out[keyNumber] = numeric
	case isKnown(num) && isKnown(numeric) && plain(num).IsBool() && plain(numeric).IsBool() &&
		plain(num).BoolValue() != plain(numeric).BoolValue():
		fail(keyNumber, "number (deprecated) and numeric must not be set to different values; set only numeric")
	}

	fails = append(fails, checkTypes(out)...)
	if len(fails) > 0 {
		return out, fails
	}
	if p, ok := paramsFrom(out); ok {
		for _, pr := range p.Validate() {
			fail(pr.Property, pr.Reason)
		}
	}
	return out, fails
}

// checkTypes reports known values of the wrong type.
func checkTypes(props resource.PropertyMap) []*pulumirpc.CheckFailure {
	var fails []*pulumirpc.CheckFailure
	for _, k := range boolKeys {
		if v, ok := props[k]; ok && isKnown(v) && !plain(v).IsBool() {
			fails = append(fails, &pulumirpc.CheckFailure{Property: string(k), Reason: fmt.Sprintf("%s must be a boolean", k)})
		}
	}
	for _, k := range intKeys {
		if v, ok := props[k]; ok && isKnown(v) {
			if _, isInt := intOf(v); !isInt {
				fails = append(fails, &pulumirpc.CheckFailure{Property: string(k), Reason: fmt.Sprintf("%s must be a whole number", k)})
			}
		}
	}
	if v, ok := props[keyOverrideSpecial]; ok && isKnown(v) && !plain(v).IsString() {
		fails = append(fails, &pulumirpc.CheckFailure{Property: keyOverrideSpecial, Reason: "overrideSpecial must be a string"})
	}
	if v, ok := props[keyKeepers]; ok && isKnown(v) && !plain(v).IsObject() {
		fails = append(fails, &pulumirpc.CheckFailure{Property: keyKeepers, Reason: "keepers must be a map of strings"})
	}
	return fails
}

// paramsFrom reads generator settings from checked inputs; ok is false when
// a setting is still unknown.
func paramsFrom(props resource.PropertyMap) (Params, bool) {
	var p Params
	ints := map[resource.PropertyKey]*int{
		keyLength: &p.Length, keyMinUpper: &p.MinUpper, keyMinLower: &p.MinLower,
		keyMinNumeric: &p.MinNumeric, keyMinSpecial: &p.MinSpecial,
	}
	for k, dst := range ints {
		n, ok := intOf(props[k])
		if !ok {
			return p, false
		}
		*dst = n
	}
	bools := map[resource.PropertyKey]*bool{
		keyUpper: &p.Upper, keyLower: &p.Lower, keyNumeric: &p.Numeric, keySpecial: &p.Special,
	}
	for k, dst := range bools {
		v := props[k]
		if !isKnown(v) || !plain(v).IsBool() {
			return p, false
		}
		*dst = plain(v).BoolValue()
	}
	if v, ok := props[keyOverrideSpecial]; ok {
		if !isKnown(v) || !plain(v).IsString() {
			return p, false
		}
		p.OverrideSpecial = plain(v).StringValue()
	}
	return p, true
}

// intOf returns v as an int when it is a known whole number in int32 range.
func intOf(v resource.PropertyValue) (int, bool) {
	if !isKnown(v) || !plain(v).IsNumber() {
		return 0, false
	}
	f := plain(v).NumberValue()
	if f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
		return 0, false
	}
	return int(f), true
}

// plain strips a secret wrapper.
func plain(v resource.PropertyValue) resource.PropertyValue {
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	return v
}

// isKnown is false for unknown values and for values containing any.
func isKnown(v resource.PropertyValue) bool {
	return !v.ContainsUnknowns()
}

// changedInputs lists the inputs whose values differ between olds and news.
// Secrets are compared by value; an empty keepers map equals no keepers.
func changedInputs(olds, news resource.PropertyMap) []string {
	var changed []string
	for _, k := range inputKeys {
		o, n := normalise(k, olds[k]), normalise(k, news[k])
		if n.ContainsUnknowns() || !o.DeepEquals(n) {
			changed = append(changed, string(k))
		}
	}
	sort.Strings(changed)
	return changed
}

func normalise(k resource.PropertyKey, v resource.PropertyValue) resource.PropertyValue {
	v = plain(v)
	if k == keyKeepers && v.IsObject() && len(v.ObjectValue()) == 0 {
		return resource.NewNullProperty()
	}
	if v.IsObject() {
		m := resource.PropertyMap{}
		for mk, mv := range v.ObjectValue() {
			m[mk] = plain(mv)
		}
		return resource.NewObjectProperty(m)
	}
	return v
}
