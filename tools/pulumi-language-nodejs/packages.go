package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// packageJSON is what this host reads of a package.json.
type packageJSON struct {
	Name            string                  `json:"name"`
	Version         string                  `json:"version"`
	Pulumi          plugin.PulumiPluginJSON `json:"pulumi"`
	Dependencies    map[string]string       `json:"dependencies"`
	DevDependencies map[string]string       `json:"devDependencies"`
}

// installedPackage is one package folder found under node_modules.
type installedPackage struct {
	dir  string
	info packageJSON
}

// GetRequiredPackages lists the resource plugins the program's installed packages declare
// (`"pulumi": { "resource": true }` in their package.json), as Pulumi's host does, so the
// engine can check they are there before the program runs. Only node_modules is searched
// (Pulumi's host walks the whole program folder, which here also holds state and tools).
func (h *host) GetRequiredPackages(_ context.Context, req *pulumirpc.GetRequiredPackagesRequest) (*pulumirpc.GetRequiredPackagesResponse, error) {
	installed, err := installedPackages(req.GetInfo().GetProgramDirectory())
	if err != nil {
		// Advisory, as in Pulumi's host: the engine still loads plugins when resources need them.
		logging.V(3).Infof("errors while discovering plugins: %v", err)
	}
	seen := map[string]bool{}
	var out []*pulumirpc.PackageDependency
	for _, pkg := range installed {
		dep, ok, err := packageDependency(pkg.info)
		if err != nil {
			logging.V(3).Infof("%s: %v", pkg.dir, err)
			continue
		}
		if !ok || seen[dep.Name+"@"+dep.Version] {
			continue
		}
		seen[dep.Name+"@"+dep.Version] = true
		out = append(out, dep)
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: out}, nil
}

// GetRequiredPlugins answers engines older than GetRequiredPackages with the same list.
func (h *host) GetRequiredPlugins(ctx context.Context, req *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	packages, err := h.GetRequiredPackages(ctx, &pulumirpc.GetRequiredPackagesRequest{Info: req.GetInfo()})
	if err != nil {
		return nil, err
	}
	plugins := make([]*pulumirpc.PluginDependency, 0, len(packages.Packages))
	for _, p := range packages.Packages {
		plugins = append(plugins, &pulumirpc.PluginDependency{Name: p.Name, Kind: p.Kind, Version: p.Version, Server: p.Server})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

// packageDependency is the plugin a package declares, named and versioned as Pulumi's
// host names them: `@pulumi/<name>` gives `<name>`, others must say `pulumi.name`.
func packageDependency(info packageJSON) (*pulumirpc.PackageDependency, bool, error) {
	if !info.Pulumi.Resource {
		return nil, false, nil
	}
	name := info.Pulumi.Name
	if name == "" {
		if !strings.HasPrefix(info.Name, "@pulumi/") {
			return nil, false, fmt.Errorf("third-party package %q must name its plugin in package.json's \"pulumi\" section", info.Name)
		}
		name = strings.TrimPrefix(info.Name, "@pulumi/")
	}
	version := info.Pulumi.Version
	if version == "" {
		version = info.Version
	}
	if version == "" {
		return nil, false, fmt.Errorf("package %q has no version", info.Name)
	}
	if !strings.HasPrefix(version, "v") {
		version = "v" + version
	}
	dep := &pulumirpc.PackageDependency{Name: name, Kind: "resource", Version: version, Server: info.Pulumi.Server}
	if p := info.Pulumi.Parameterization; p != nil {
		dep.Parameterization = &pulumirpc.PackageParameterization{Name: p.Name, Version: p.Version, Value: p.Value}
	}
	return dep, true, nil
}

// installedPackages reads every package under <dir>/node_modules, nested node_modules
// included, following links (npm workspaces) once each.
func installedPackages(dir string) ([]installedPackage, error) {
	var out []installedPackage
	var errs []error
	visited := map[string]bool{}
	var walk func(modules string)
	visit := func(pkgDir string) {
		info, err := readPackageJSON(pkgDir)
		if err != nil {
			// A folder without package.json is no package.
			if !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
			return
		}
		out = append(out, installedPackage{dir: pkgDir, info: info})
		walk(filepath.Join(pkgDir, "node_modules"))
	}
	walk = func(modules string) {
		real, err := filepath.EvalSymlinks(modules)
		if err != nil || visited[real] {
			return
		}
		visited[real] = true
		entries, err := os.ReadDir(real)
		if err != nil {
			errs = append(errs, err)
			return
		}
		for _, e := range entries {
			name := e.Name()
			switch {
			case strings.HasPrefix(name, "."):
			case strings.HasPrefix(name, "@"):
				scoped, err := os.ReadDir(filepath.Join(real, name))
				if err != nil {
					errs = append(errs, err)
					continue
				}
				for _, s := range scoped {
					visit(filepath.Join(real, name, s.Name()))
				}
			default:
				visit(filepath.Join(real, name))
			}
		}
	}
	walk(filepath.Join(dir, "node_modules"))
	return out, errors.Join(errs...)
}

// GetProgramDependencies lists the program's packages with their installed versions
// (`pulumi about`): the dependencies in its package.json, or with transitive set every
// installed package (each name and version once).
func (h *host) GetProgramDependencies(_ context.Context, req *pulumirpc.GetProgramDependenciesRequest) (*pulumirpc.GetProgramDependenciesResponse, error) {
	dir := req.GetInfo().GetProgramDirectory()
	var out []*pulumirpc.DependencyInfo
	if req.GetTransitiveDependencies() {
		installed, err := installedPackages(dir)
		if err != nil && len(installed) == 0 {
			return nil, fmt.Errorf("failed to read the installed packages of %s: %w", dir, err)
		}
		seen := map[string]bool{}
		for _, pkg := range installed {
			if key := pkg.info.Name + "@" + pkg.info.Version; !seen[key] {
				seen[key] = true
				out = append(out, &pulumirpc.DependencyInfo{Name: pkg.info.Name, Version: pkg.info.Version})
			}
		}
	} else {
		own, err := readPackageJSON(dir)
		if err != nil {
			return nil, fmt.Errorf("failed to read the program's package.json: %w", err)
		}
		for _, deps := range []map[string]string{own.Dependencies, own.DevDependencies} {
			for name := range deps {
				// The copy node resolves first: <dir>/node_modules/<name>.
				pkg, err := readPackageJSON(filepath.Join(dir, "node_modules", filepath.FromSlash(name)))
				if err != nil {
					return nil, fmt.Errorf("dependency %s is not installed in %s (run `npm ci`): %w", name, dir, err)
				}
				out = append(out, &pulumirpc.DependencyInfo{Name: name, Version: pkg.Version})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Version < out[j].Version
	})
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: out}, nil
}

func readPackageJSON(dir string) (packageJSON, error) {
	var info packageJSON
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return info, fmt.Errorf("%s/package.json: %w", dir, err)
	}
	return info, nil
}
