package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/urn"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// resourceID is the id Pulumi's random provider gives every resource.
const resourceID = "none"

// randomProvider serves RandomPassword and RandomString over the provider
// gRPC interface; everything else is left unimplemented.
type randomProvider struct {
	pulumirpc.UnimplementedResourceProviderServer
	version string
}

func newProvider(version string) *randomProvider {
	return &randomProvider{version: version}
}

// Values keep their secret and unknown wrappers so echoed inputs stay secret.
var wireOpts = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, SkipNulls: true}

func unmarshal(label string, s *structpb.Struct) (resource.PropertyMap, error) {
	opts := wireOpts
	opts.Label = label
	return plugin.UnmarshalProperties(s, opts)
}

func marshal(label string, m resource.PropertyMap) (*structpb.Struct, error) {
	opts := wireOpts
	opts.Label = label
	return plugin.MarshalProperties(m, opts)
}

// isPassword reports whether the request is for RandomPassword, and fails for
// types this provider does not serve.
func isPassword(typ, rawURN string) (bool, error) {
	if typ == "" && rawURN != "" {
		u, err := urn.Parse(rawURN)
		if err != nil {
			return false, fmt.Errorf("parse urn: %w", err)
		}
		typ = string(u.Type())
	}
	switch typ {
	case tokenPassword:
		return true, nil
	case tokenString:
		return false, nil
	}
	return false, fmt.Errorf("unknown resource type %q: this provider only serves %s and %s", typ, tokenPassword, tokenString)
}

func (p *randomProvider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: p.version}, nil
}

func (p *randomProvider) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	s, err := schemaJSON(p.version)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetSchemaResponse{Schema: s}, nil
}

func (p *randomProvider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (p *randomProvider) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (p *randomProvider) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true}, nil
}

func (p *randomProvider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (p *randomProvider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	if _, err := isPassword(req.GetType(), req.GetUrn()); err != nil {
		return nil, err
	}
	news, err := unmarshal("check.news", req.GetNews())
	if err != nil {
		return nil, err
	}
	inputs, failures := checkInputs(news)
	s, err := marshal("check.inputs", inputs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: s, Failures: failures}, nil
}

// Diff replaces on any input change, keepers included, as Pulumi's provider does.
func (p *randomProvider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, err := unmarshal("diff.olds", req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal("diff.news", req.GetNews())
	if err != nil {
		return nil, err
	}
	changed := changedInputs(olds, news)
	if len(changed) == 0 {
		return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
	}
	detailed := map[string]*pulumirpc.PropertyDiff{}
	for _, k := range changed {
		kind := pulumirpc.PropertyDiff_UPDATE_REPLACE
		switch {
		case !olds.HasValue(resource.PropertyKey(k)):
			kind = pulumirpc.PropertyDiff_ADD_REPLACE
		case !news.HasValue(resource.PropertyKey(k)):
			kind = pulumirpc.PropertyDiff_DELETE_REPLACE
		}
		detailed[k] = &pulumirpc.PropertyDiff{Kind: kind, InputDiff: true}
	}
	return &pulumirpc.DiffResponse{
		Changes:             pulumirpc.DiffResponse_DIFF_SOME,
		Replaces:            changed,
		Diffs:               changed,
		DetailedDiff:        detailed,
		HasDetailedDiff:     true,
		DeleteBeforeReplace: false,
	}, nil
}

// Create echoes the inputs with defaults and adds the generated values. In a
// preview nothing is generated: the generated outputs are unknown.
func (p *randomProvider) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	password, err := isPassword(req.GetType(), req.GetUrn())
	if err != nil {
		return nil, err
	}
	props, err := unmarshal("create.properties", req.GetProperties())
	if err != nil {
		return nil, err
	}
	outs, failures := checkInputs(props)
	if len(failures) > 0 {
		reasons := make([]string, len(failures))
		for i, f := range failures {
			reasons[i] = f.GetReason()
		}
		return nil, errors.New("invalid inputs: " + strings.Join(reasons, "; "))
	}

	params, known := paramsFrom(outs)
	if req.GetPreview() || !known {
		if !req.GetPreview() {
			return nil, errors.New("cannot create with unknown inputs outside a preview")
		}
		outs[keyResult] = resource.MakeComputed(resource.NewStringProperty(""))
		if password {
			outs[keyBcryptHash] = resource.MakeComputed(resource.NewStringProperty(""))
		}
	} else if err := generateOutputs(outs, params, password); err != nil {
		return nil, err
	}

	s, err := marshal("create.outputs", outs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: resourceID, Properties: s}, nil
}

// generateOutputs sets result (and bcryptHash and the secret marks for passwords).
func generateOutputs(outs resource.PropertyMap, params Params, password bool) error {
	result, err := Generate(params)
	if err != nil {
		return fmt.Errorf("generate result: %w", err)
	}
	if !password {
		outs[keyResult] = resource.NewStringProperty(result)
		return nil
	}
	hash, err := BcryptHash(result)
	if err != nil {
		return err
	}
	outs[keyResult] = resource.MakeSecret(resource.NewStringProperty(result))
	outs[keyBcryptHash] = resource.MakeSecret(resource.NewStringProperty(hash))
	return nil
}

// Read has nothing to refresh: the state is the truth.
func (p *randomProvider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

// Update never happens because Diff replaces on every change.
func (p *randomProvider) Update(context.Context, *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	return nil, errors.New("update is not supported: every input change replaces the resource")
}

// Delete has nothing to remove outside the state.
func (p *randomProvider) Delete(context.Context, *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}
