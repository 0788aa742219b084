package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// repoRoot is the project (this module lives in tools/pulumi-language-nodejs).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "node_modules", "@pulumi", "pulumi", "package.json")); err != nil {
		t.Fatalf("the project's packages are not installed (npm ci): %v", err)
	}
	return root
}

func writePackage(t *testing.T, dir string, pkg map[string]any) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(pkg)
	if err := os.WriteFile(filepath.Join(dir, "package.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func requiredPackages(t *testing.T, dir string) map[string]string {
	t.Helper()
	resp, err := newHost("", "", "test").GetRequiredPackages(context.Background(),
		&pulumirpc.GetRequiredPackagesRequest{Info: &pulumirpc.ProgramInfo{ProgramDirectory: dir}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range resp.Packages {
		if p.Kind != "resource" {
			t.Errorf("%s has kind %q", p.Name, p.Kind)
		}
		got[p.Name+" "+p.Version] = p.Server
	}
	return got
}

func TestRequiredPackagesOfTheProject(t *testing.T) {
	root := repoRoot(t)
	want := map[string]string{}
	for _, name := range []string{"kubernetes", "random"} {
		var info packageJSON
		b, err := os.ReadFile(filepath.Join(root, "node_modules", "@pulumi", name, "package.json"))
		if err != nil || json.Unmarshal(b, &info) != nil {
			t.Fatalf("@pulumi/%s: %v", name, err)
		}
		want[name+" v"+info.Version] = info.Pulumi.Server
	}
	if got := requiredPackages(t, root); !reflect.DeepEqual(got, want) {
		t.Fatalf("the project's plugins = %v, want %v", got, want)
	}
}

func TestRequiredPackagesRulesOfPulumisHost(t *testing.T) {
	dir := t.TempDir()
	nm := filepath.Join(dir, "node_modules")
	writePackage(t, filepath.Join(nm, "@pulumi", "pulumi"), map[string]any{"name": "@pulumi/pulumi", "version": "3.259.0"})
	writePackage(t, filepath.Join(nm, "@pulumi", "aws"), map[string]any{"name": "@pulumi/aws", "version": "7.1.0", "pulumi": map[string]any{"resource": true}})
	writePackage(t, filepath.Join(nm, "@acme", "thing"), map[string]any{"name": "@acme/thing", "version": "1.0.0",
		"pulumi": map[string]any{"resource": true, "name": "thing", "version": "2.0.0", "server": "https://example.test/plugins"}})
	// A third-party package must name its plugin: skipped, as Pulumi's host skips it.
	writePackage(t, filepath.Join(nm, "unnamed"), map[string]any{"name": "unnamed", "version": "1.0.0", "pulumi": map[string]any{"resource": true}})
	// Nested copies count; the same name and version only once.
	writePackage(t, filepath.Join(nm, "wrapper", "node_modules", "@pulumi", "aws"), map[string]any{"name": "@pulumi/aws", "version": "6.0.0", "pulumi": map[string]any{"resource": true}})
	writePackage(t, filepath.Join(nm, "wrapper"), map[string]any{"name": "wrapper", "version": "1.0.0"})
	writePackage(t, filepath.Join(nm, "other", "node_modules", "@pulumi", "aws"), map[string]any{"name": "@pulumi/aws", "version": "7.1.0", "pulumi": map[string]any{"resource": true}})
	writePackage(t, filepath.Join(nm, "other"), map[string]any{"name": "other", "version": "1.0.0"})
	// Outside node_modules nothing is read (the program folder also holds state and tools).
	writePackage(t, filepath.Join(dir, "vendor", "@pulumi", "gcp"), map[string]any{"name": "@pulumi/gcp", "version": "8.0.0", "pulumi": map[string]any{"resource": true}})
	if err := os.Symlink(nm, filepath.Join(nm, "loop")); err != nil {
		t.Fatal(err)
	}

	want := map[string]string{"aws v7.1.0": "", "aws v6.0.0": "", "thing v2.0.0": "https://example.test/plugins"}
	if got := requiredPackages(t, dir); !reflect.DeepEqual(got, want) {
		t.Fatalf("GetRequiredPackages = %v, want %v", got, want)
	}
	plugins, err := newHost("", "", "test").GetRequiredPlugins(context.Background(),
		&pulumirpc.GetRequiredPluginsRequest{Info: &pulumirpc.ProgramInfo{ProgramDirectory: dir}})
	if err != nil || len(plugins.Plugins) != 3 {
		t.Fatalf("GetRequiredPlugins = %v, %v", plugins, err)
	}
	if got := requiredPackages(t, t.TempDir()); len(got) != 0 {
		t.Fatalf("no node_modules: %v", got)
	}
}

func TestProgramDependencies(t *testing.T) {
	dir := t.TempDir()
	writePackage(t, dir, map[string]any{"name": "app", "dependencies": map[string]string{"@pulumi/pulumi": "^3.0.0"}, "devDependencies": map[string]string{"typescript": "5.9.3"}})
	nm := filepath.Join(dir, "node_modules")
	writePackage(t, filepath.Join(nm, "@pulumi", "pulumi"), map[string]any{"name": "@pulumi/pulumi", "version": "3.259.0"})
	writePackage(t, filepath.Join(nm, "typescript"), map[string]any{"name": "typescript", "version": "5.9.3"})
	writePackage(t, filepath.Join(nm, "typescript", "node_modules", "semver"), map[string]any{"name": "semver", "version": "7.0.0"})
	h := newHost("", "", "test")
	deps := func(transitive bool) []string {
		resp, err := h.GetProgramDependencies(context.Background(), &pulumirpc.GetProgramDependenciesRequest{
			TransitiveDependencies: transitive, Info: &pulumirpc.ProgramInfo{ProgramDirectory: dir}})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range resp.Dependencies {
			out = append(out, d.Name+"@"+d.Version)
		}
		return out
	}
	if got := deps(false); !reflect.DeepEqual(got, []string{"@pulumi/pulumi@3.259.0", "typescript@5.9.3"}) {
		t.Fatalf("direct = %v", got)
	}
	if got := deps(true); !reflect.DeepEqual(got, []string{"@pulumi/pulumi@3.259.0", "semver@7.0.0", "typescript@5.9.3"}) {
		t.Fatalf("transitive = %v", got)
	}
	if err := os.RemoveAll(filepath.Join(nm, "typescript")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.GetProgramDependencies(context.Background(), &pulumirpc.GetProgramDependenciesRequest{Info: &pulumirpc.ProgramInfo{ProgramDirectory: dir}}); err == nil {
		t.Fatal("a dependency that is not installed must be an error, not a guess")
	}
}
