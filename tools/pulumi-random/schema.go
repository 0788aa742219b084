package main

import "encoding/json"

// Type tokens, identical to @pulumi/random 4.21.2.
const (
	tokenPassword = "random:index/randomPassword:RandomPassword"
	tokenString   = "random:index/randomString:RandomString"
)

type typeSpec struct {
	Type                 string    `json:"type"`
	AdditionalProperties *typeSpec `json:"additionalProperties,omitempty"`
}

type propertySpec struct {
	typeSpec
	Description        string `json:"description,omitempty"`
	Secret             bool   `json:"secret,omitempty"`
	DeprecationMessage string `json:"deprecationMessage,omitempty"`
}

type resourceSpec struct {
	Description     string                  `json:"description,omitempty"`
	Properties      map[string]propertySpec `json:"properties"`
	Required        []string                `json:"required"`
	InputProperties map[string]propertySpec `json:"inputProperties"`
	RequiredInputs  []string                `json:"requiredInputs"`
}

type packageSpec struct {
	Name        string                  `json:"name"`
	DisplayName string                  `json:"displayName,omitempty"`
	Version     string                  `json:"version"`
	Description string                  `json:"description,omitempty"`
	License     string                  `json:"license,omitempty"`
	Meta        map[string]string       `json:"meta,omitempty"`
	Provider    resourceSpec            `json:"provider"`
	Resources   map[string]resourceSpec `json:"resources"`
}

func prop(typ, desc string) propertySpec {
	return propertySpec{typeSpec: typeSpec{Type: typ}, Description: desc}
}

// inputSpecs describes the inputs shared by both resources.
func inputSpecs() map[string]propertySpec {
	number := prop("boolean", "Include numeric characters in the result. Default value is `true`.")
	number.DeprecationMessage = "**NOTE**: This is deprecated, use `numeric` instead."
	return map[string]propertySpec{
		keyKeepers: {
			typeSpec:    typeSpec{Type: "object", AdditionalProperties: &typeSpec{Type: "string"}},
			Description: "Arbitrary map of values that, when changed, will trigger recreation of resource.",
		},
		keyLength:          prop("integer", "The length of the string desired. The minimum value for length is 1 and, length must also be >= (`minUpper` + `minLower` + `minNumeric` + `minSpecial`)."),
		keyLower:           prop("boolean", "Include lowercase alphabet characters in the result. Default value is `true`."),
		keyMinLower:        prop("integer", "Minimum number of lowercase alphabet characters in the result. Default value is `0`."),
		keyMinNumeric:      prop("integer", "Minimum number of numeric characters in the result. Default value is `0`."),
		keyMinSpecial:      prop("integer", "Minimum number of special characters in the result. Default value is `0`."),
		keyMinUpper:        prop("integer", "Minimum number of uppercase alphabet characters in the result. Default value is `0`."),
		keyNumber:          number,
		keyNumeric:         prop("boolean", "Include numeric characters in the result. Default value is `true`."),
		keyOverrideSpecial: prop("string", "Supply your own list of special characters to use for string generation. This overrides the default character list in the special argument. The `special` argument must still be set to true for any overwritten characters to be used in generation."),
		keySpecial:         prop("boolean", "Include special characters in the result. These are `!@#$%&*()-_=+[]{}<>:?`. Default value is `true`."),
		keyUpper:           prop("boolean", "Include uppercase alphabet characters in the result. Default value is `true`."),
	}
}

// randomResourceSpec builds a resource whose outputs echo every input plus
// result (and bcryptHash for passwords).
func randomResourceSpec(desc string, password bool) resourceSpec {
	outputs := inputSpecs()
	result := prop("string", "The generated random string.")
	result.Secret = password
	outputs[keyResult] = result
	required := []string{keyLength, keyLower, keyMinLower, keyMinNumeric, keyMinSpecial, keyMinUpper,
		keyNumber, keyNumeric, keyResult, keySpecial, keyUpper}
	if password {
		hash := prop("string", "A bcrypt hash of the generated random string.")
		hash.Secret = true
		outputs[keyBcryptHash] = hash
		required = append([]string{keyBcryptHash}, required...)
	}
	return resourceSpec{
		Description:     desc,
		Properties:      outputs,
		Required:        required,
		InputProperties: inputSpecs(),
		RequiredInputs:  []string{keyLength},
	}
}

// schemaJSON returns the Pulumi package schema of this provider.
func schemaJSON(version string) (string, error) {
	spec := packageSpec{
		Name:        "random",
		DisplayName: "random",
		Version:     version,
		Description: "A Pulumi package to safely use randomness in Pulumi programs (odoo-saas stand-in for RandomPassword and RandomString).",
		License:     "Apache-2.0",
		Meta:        map[string]string{"moduleFormat": "(.*)(?:/[^/]*)"},
		Provider: resourceSpec{
			Description:     "The provider type for the random package.",
			Properties:      map[string]propertySpec{},
			Required:        []string{},
			InputProperties: map[string]propertySpec{},
			RequiredInputs:  []string{},
		},
		Resources: map[string]resourceSpec{
			tokenPassword: randomResourceSpec("Identical to RandomString with the exception that the result is treated as sensitive. Uses a cryptographic random number generator.", true),
			tokenString:   randomResourceSpec("Generates a random permutation of alphanumeric characters and optionally special characters. Uses a cryptographic random number generator.", false),
		},
	}
	b, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return "", err
	}
	return string(b), nil
}
