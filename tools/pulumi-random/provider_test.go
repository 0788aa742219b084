package main

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/sig"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/urn"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"golang.org/x/crypto/bcrypt"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

var ctx = context.Background()

func testURN(token string) string {
	return string(urn.New("dev", "odoo-saas", "", tokens.Type(token), "pw"))
}

func toStruct(t *testing.T, m resource.PropertyMap) *structpb.Struct {
	t.Helper()
	s, err := plugin.MarshalProperties(m, plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func fromStruct(t *testing.T, s *structpb.Struct) resource.PropertyMap {
	t.Helper()
	m, err := plugin.UnmarshalProperties(s, plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// check runs Check and fails the test on an RPC error.
func check(t *testing.T, token string, news resource.PropertyMap) *pulumirpc.CheckResponse {
	t.Helper()
	resp, err := newProvider("test").Check(ctx, &pulumirpc.CheckRequest{Urn: testURN(token), News: toStruct(t, news)})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return resp
}

// checked returns the Check output for valid inputs.
func checked(t *testing.T, token string, news resource.PropertyMap) resource.PropertyMap {
	t.Helper()
	resp := check(t, token, news)
	if len(resp.Failures) > 0 {
		t.Fatalf("unexpected check failures: %v", resp.Failures)
	}
	return fromStruct(t, resp.Inputs)
}

func create(t *testing.T, token string, inputs resource.PropertyMap, preview bool) resource.PropertyMap {
	t.Helper()
	resp, err := newProvider("test").Create(ctx, &pulumirpc.CreateRequest{
		Urn: testURN(token), Properties: toStruct(t, inputs), Preview: preview,
	})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if resp.Id != "none" {
		t.Errorf("id %q, want \"none\"", resp.Id)
	}
	return fromStruct(t, resp.Properties)
}

func projectInputs() resource.PropertyMap {
	return resource.PropertyMap{"length": resource.NewNumberProperty(32), "special": resource.NewBoolProperty(false)}
}

func TestCheckAppliesDefaults(t *testing.T) {
	got := checked(t, tokenPassword, projectInputs())
	want := resource.PropertyMap{
		"length": resource.NewNumberProperty(32), "special": resource.NewBoolProperty(false),
		"lower": resource.NewBoolProperty(true), "upper": resource.NewBoolProperty(true),
		"numeric": resource.NewBoolProperty(true), "number": resource.NewBoolProperty(true),
		"minLower": resource.NewNumberProperty(0), "minUpper": resource.NewNumberProperty(0),
		"minNumeric": resource.NewNumberProperty(0), "minSpecial": resource.NewNumberProperty(0),
	}
	if !got.DeepEquals(want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	// The deprecated alias sets numeric, and the other way round.
	in := projectInputs()
	in["number"] = resource.NewBoolProperty(false)
	if got := checked(t, tokenString, in); got["numeric"].BoolValue() {
		t.Error("number=false did not set numeric=false")
	}
	in = projectInputs()
	in["numeric"] = resource.NewBoolProperty(false)
	if got := checked(t, tokenString, in); got["number"].BoolValue() {
		t.Error("numeric=false did not set number=false")
	}
}

func TestCheckFailures(t *testing.T) {
	base := func(extra resource.PropertyMap) resource.PropertyMap {
		m := resource.PropertyMap{"length": resource.NewNumberProperty(8)}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	off := resource.NewBoolProperty(false)
	cases := []struct {
		name, property, reason string
		news                   resource.PropertyMap
	}{
		{"missing length", "length", "missing required", resource.PropertyMap{}},
		{"zero length", "length", "at least 1", base(resource.PropertyMap{"length": resource.NewNumberProperty(0)})},
		{"fractional length", "length", "whole number", base(resource.PropertyMap{"length": resource.NewNumberProperty(1.5)})},
		{"minimums exceed length", "length", "minUpper + minLower", base(resource.PropertyMap{"minUpper": resource.NewNumberProperty(5), "minNumeric": resource.NewNumberProperty(4)})},
		{"no class", "", "at least one of", base(resource.PropertyMap{"upper": off, "lower": off, "numeric": off, "special": off})},
		{"number and numeric differ", "number", "different values", base(resource.PropertyMap{"number": off, "numeric": resource.NewBoolProperty(true)})},
		{"wrong type", "lower", "boolean", base(resource.PropertyMap{"lower": resource.NewStringProperty("yes")})},
		{"unknown property", "lenght", "unknown property", base(resource.PropertyMap{"lenght": resource.NewNumberProperty(3)})},
	}
	for _, c := range cases {
		f := check(t, tokenPassword, c.news).Failures
		if len(f) != 1 || f[0].Property != c.property || !strings.Contains(f[0].Reason, c.reason) {
			t.Errorf("%s: got failures %v, want one on %q containing %q", c.name, f, c.property, c.reason)
		}
	}
}

func TestCheckPassesUnknowns(t *testing.T) {
	in := projectInputs()
	in["length"] = resource.MakeComputed(resource.NewNumberProperty(0))
	got := checked(t, tokenPassword, in)
	if !got["length"].IsComputed() {
		t.Fatalf("unknown length not passed through: %v", got["length"])
	}
}

func TestCreatePasswordSecrets(t *testing.T) {
	inputs := checked(t, tokenPassword, projectInputs())
	resp, err := newProvider("test").Create(ctx, &pulumirpc.CreateRequest{Urn: testURN(tokenPassword), Properties: toStruct(t, inputs)})
	if err != nil {
		t.Fatal(err)
	}
	// On the wire, both generated values carry the secret signature.
	for _, k := range []string{"result", "bcryptHash"} {
		f := resp.Properties.Fields[k].GetStructValue().GetFields()
		if f[sig.Key].GetStringValue() != sig.Secret {
			t.Errorf("%s is not marshalled as a secret", k)
		}
	}
	outs := fromStruct(t, resp.Properties)
	for k, v := range inputs {
		if !outs[k].DeepEquals(v) {
			t.Errorf("input %s not echoed: got %v want %v", k, outs[k], v)
		}
	}
	if !outs["result"].IsSecret() || !outs["bcryptHash"].IsSecret() {
		t.Fatal("result and bcryptHash must be secrets")
	}
	result := outs["result"].SecretValue().Element.StringValue()
	hash := outs["bcryptHash"].SecretValue().Element.StringValue()
	if len(result) != 32 || countIn(result, defaultSpecialChars) != 0 {
		t.Errorf("result has wrong length or special characters (length %d)", len(result))
	}
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(result)); err != nil {
		t.Errorf("bcryptHash does not verify against result: %v", err)
	}
	again := create(t, tokenPassword, inputs, false)
	if again["result"].SecretValue().Element.StringValue() == result {
		t.Error("two creates produced the same result")
	}
}

func TestCreateString(t *testing.T) {
	outs := create(t, tokenString, checked(t, tokenString, projectInputs()), false)
	if outs["result"].IsSecret() || !outs["result"].IsString() || len(outs["result"].StringValue()) != 32 {
		t.Errorf("RandomString result should be a plain 32-character string, got secret=%v", outs["result"].IsSecret())
	}
	if outs.HasValue("bcryptHash") {
		t.Error("RandomString has no bcryptHash")
	}
}

func TestCreatePreviewIsUnknown(t *testing.T) {
	outs := create(t, tokenPassword, checked(t, tokenPassword, projectInputs()), true)
	for _, k := range []resource.PropertyKey{"result", "bcryptHash"} {
		if !outs[k].IsComputed() {
			t.Errorf("%s in preview is %v, want unknown", k, outs[k])
		}
	}
	if outs["length"].NumberValue() != 32 {
		t.Error("preview does not echo the inputs")
	}
}

func TestDiff(t *testing.T) {
	inputs := projectInputs()
	inputs["keepers"] = resource.NewObjectProperty(resource.PropertyMap{"db": resource.NewStringProperty("odoo")})
	inputs["overrideSpecial"] = resource.NewStringProperty("")
	state := create(t, tokenPassword, checked(t, tokenPassword, inputs), false)
	p := newProvider("test")
	diff := func(news resource.PropertyMap) *pulumirpc.DiffResponse {
		t.Helper()
		resp, err := p.Diff(ctx, &pulumirpc.DiffRequest{
			Id: "none", Urn: testURN(tokenPassword), Olds: toStruct(t, state), News: toStruct(t, checked(t, tokenPassword, news)),
		})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	if d := diff(inputs); d.Changes != pulumirpc.DiffResponse_DIFF_NONE || len(d.Replaces) != 0 {
		t.Fatalf("equal inputs: got %v, want DIFF_NONE", d)
	}

	changes := map[string]resource.PropertyValue{
		"length":          resource.NewNumberProperty(33),
		"lower":           resource.NewBoolProperty(false),
		"upper":           resource.NewBoolProperty(false),
		"special":         resource.NewBoolProperty(true),
		"minLower":        resource.NewNumberProperty(1),
		"minUpper":        resource.NewNumberProperty(1),
		"minNumeric":      resource.NewNumberProperty(1),
		"minSpecial":      resource.NewNumberProperty(1),
		"overrideSpecial": resource.NewStringProperty("#"),
		"keepers":         resource.NewObjectProperty(resource.PropertyMap{"db": resource.NewStringProperty("other")}),
	}
	for k, v := range changes {
		news := inputs.Copy()
		news[resource.PropertyKey(k)] = v
		assertReplaces(t, k, diff(news), k)
	}
	news := inputs.Copy()
	news["numeric"] = resource.NewBoolProperty(false) // number follows numeric
	assertReplaces(t, "numeric", diff(news), "number", "numeric")

	news = inputs.Copy()
	delete(news, "keepers")
	assertReplaces(t, "keepers removed", diff(news), "keepers")

	news = inputs.Copy()
	news["keepers"] = resource.NewObjectProperty(resource.PropertyMap{
		"db": resource.NewStringProperty("odoo"), "image": resource.MakeComputed(resource.NewStringProperty("")),
	})
	assertReplaces(t, "unknown keeper", diff(news), "keepers")
}

func assertReplaces(t *testing.T, name string, d *pulumirpc.DiffResponse, keys ...string) {
	t.Helper()
	if d.Changes != pulumirpc.DiffResponse_DIFF_SOME || d.DeleteBeforeReplace || !slices.Equal(d.Replaces, keys) {
		t.Errorf("%s: got changes=%v replaces=%v dbr=%v, want DIFF_SOME replacing %v", name, d.Changes, d.Replaces, d.DeleteBeforeReplace, keys)
	}
	for _, k := range keys {
		if kind := d.DetailedDiff[k].GetKind(); !strings.HasSuffix(kind.String(), "_REPLACE") {
			t.Errorf("%s: detailed diff of %s is %v, want a replace", name, k, kind)
		}
	}
}

func TestLifecycle(t *testing.T) {
	p := newProvider("4.21.2-test")
	info, err := p.GetPluginInfo(ctx, &emptypb.Empty{})
	if err != nil || info.Version != "4.21.2-test" {
		t.Errorf("GetPluginInfo = %v, %v", info, err)
	}
	conf, err := p.Configure(ctx, &pulumirpc.ConfigureRequest{})
	if err != nil || !conf.AcceptSecrets || !conf.SupportsPreview {
		t.Errorf("Configure = %v, %v", conf, err)
	}
	state := toStruct(t, create(t, tokenPassword, checked(t, tokenPassword, projectInputs()), false))
	read, err := p.Read(ctx, &pulumirpc.ReadRequest{Id: "none", Urn: testURN(tokenPassword), Properties: state})
	if err != nil || read.Id != "none" || !fromStruct(t, read.Properties).DeepEquals(fromStruct(t, state)) {
		t.Errorf("Read changed the state: %v", err)
	}
	if _, err := p.Update(ctx, &pulumirpc.UpdateRequest{}); err == nil {
		t.Error("Update must fail: every change replaces")
	}
	if _, err := p.Delete(ctx, &pulumirpc.DeleteRequest{Id: "none", Properties: state}); err != nil {
		t.Errorf("Delete: %v", err)
	}
	if _, err := p.Check(ctx, &pulumirpc.CheckRequest{Urn: testURN("random:index/randomPet:RandomPet"), News: toStruct(t, projectInputs())}); err == nil {
		t.Error("Check accepted a resource type this provider does not serve")
	}
}

func TestVersionDefault(t *testing.T) {
	if Version != "0.0.0-dev" {
		t.Errorf("unstamped Version = %q, want 0.0.0-dev", Version)
	}
}

func TestSchema(t *testing.T) {
	resp, err := newProvider("4.21.2-test").GetSchema(ctx, &pulumirpc.GetSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Name, Version string
		Provider      map[string]any
		Resources     map[string]struct {
			InputProperties map[string]any
			Properties      map[string]struct{ Secret bool }
			RequiredInputs  []string
			Required        []string
		}
	}
	if err := json.Unmarshal([]byte(resp.Schema), &s); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if s.Name != "random" || s.Version != "4.21.2-test" || s.Provider == nil {
		t.Errorf("name=%q version=%q provider=%v", s.Name, s.Version, s.Provider)
	}
	var wantInputs []string
	for _, k := range inputKeys {
		wantInputs = append(wantInputs, string(k))
	}
	for token, password := range map[string]bool{tokenPassword: true, tokenString: false} {
		r, ok := s.Resources[token]
		if !ok {
			t.Fatalf("schema lacks %s", token)
		}
		if got := sortedKeys(r.InputProperties); !slices.Equal(got, wantInputs) {
			t.Errorf("%s inputs %v, want %v", token, got, wantInputs)
		}
		if !slices.Equal(r.RequiredInputs, []string{"length"}) {
			t.Errorf("%s requiredInputs %v", token, r.RequiredInputs)
		}
		if r.Properties["result"].Secret != password {
			t.Errorf("%s result secret = %v, want %v", token, r.Properties["result"].Secret, password)
		}
		if _, has := r.Properties["bcryptHash"]; has != password || r.Properties["bcryptHash"].Secret != password {
			t.Errorf("%s bcryptHash presence/secret wrong", token)
		}
		if !slices.Contains(r.Required, "result") {
			t.Errorf("%s: result not required", token)
		}
	}
}

// TestMatchesNpmPackage compares the property names with the installed
// @pulumi/random JS package, when the repository has it installed.
func TestMatchesNpmPackage(t *testing.T) {
	for file, token := range map[string]string{"randomPassword.js": tokenPassword, "randomString.js": tokenString} {
		b, err := os.ReadFile("../../node_modules/@pulumi/random/" + file)
		if err != nil {
			t.Fatalf("@pulumi/random not installed (run npm ci): %v", err)
		}
		js := string(b)
		if !strings.Contains(js, "'"+token+"'") {
			t.Errorf("%s does not declare %s", file, token)
		}
		names := map[string]bool{}
		for _, m := range regexp.MustCompile(`resourceInputs\["(\w+)"\]`).FindAllStringSubmatch(js, -1) {
			names[m[1]] = true
		}
		schema, _ := schemaJSON("x")
		var s struct {
			Resources map[string]struct{ Properties map[string]any }
		}
		if err := json.Unmarshal([]byte(schema), &s); err != nil {
			t.Fatal(err)
		}
		if got, want := sortedKeys(s.Resources[token].Properties), sortedKeys(names); !slices.Equal(got, want) {
			t.Errorf("%s: our outputs %v, npm package %v", token, got, want)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
