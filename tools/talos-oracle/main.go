// talos-oracle does what talhorn's RUNBOOK does with Talos's own library and reports every
// problem Talos finds, as JSON. It is a test tool: never part of the talhorn binary.
//
// It reads one request (JSON) on stdin:
//
//	{"clusterName": "homelab", "endpoint": "https://10.0.0.10:6443",
//	 "talosVersion": "v1.11.6", "kubernetesVersion": "1.34.1",  (empty: the library's default)
//	 "controlplanePatches": ["@out/talos/controlplane.yaml"],
//	 "workerPatches": ["@out/talos/worker.yaml"],
//	 "nodes": [{"name": "cp-1", "role": "controlplane", "patches": ["@out/talos/nodes/cp-1.yaml"]}]}
//
// and, like `talosctl gen config NAME ENDPOINT --talos-version V --kubernetes-version K
// --config-patch-control-plane @cp --config-patch-worker @w` followed by `talosctl
// machineconfig patch <role>.yaml --patch @node.yaml` and `talosctl validate --mode metal
// --strict`, generates a fresh config bundle (throwaway secrets), applies the patches, loads
// every rendered node config back and validates it. Patches use talosctl's syntax (`@file`
// or inline YAML/JSON).
//
// stdout: {"machinery": "<module version>", "checked": [node names], "problems": [...],
// "rendered": {node name: the node's rendered config (YAML, throwaway secrets)}};
// exit status 0 when there is no problem, 1 when there is at least one, 2 when the request
// itself is unusable.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/bundle"
	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"github.com/siderolabs/talos/pkg/machinery/config/configpatcher"
	"github.com/siderolabs/talos/pkg/machinery/config/encoder"
	"github.com/siderolabs/talos/pkg/machinery/config/generate"
	"github.com/siderolabs/talos/pkg/machinery/config/machine"
	"github.com/siderolabs/talos/pkg/machinery/config/validation"
	"github.com/siderolabs/talos/pkg/machinery/constants"
)

type request struct {
	ClusterName         string   `json:"clusterName"`
	Endpoint            string   `json:"endpoint"`
	TalosVersion        string   `json:"talosVersion"`
	KubernetesVersion   string   `json:"kubernetesVersion"`
	ControlPlanePatches []string `json:"controlplanePatches"`
	WorkerPatches       []string `json:"workerPatches"`
	Nodes               []node   `json:"nodes"`
}

type node struct {
	Name    string   `json:"name"`
	Role    string   `json:"role"`
	Patches []string `json:"patches"`
}

// problem is one thing Talos rejects. Stage says which step found it: `read-patch` (a patch
// talosctl cannot read), `gen` (gen config with
// the role patches), `patch` (the node patch), `load` (reading the rendered config back) or
// `validate` (talosctl validate --mode metal --strict).
type problem struct {
	Node    string `json:"node,omitempty"`
	Role    string `json:"role,omitempty"`
	Stage   string `json:"stage"`
	Message string `json:"message"`
}

type report struct {
	Machinery string    `json:"machinery"`
	Checked   []string  `json:"checked"`
	Problems  []problem `json:"problems"`
	// What Talos would run with, so a test can check that a choice of the intent survived
	// gen config and the patches (not only that the result is valid).
	Rendered map[string]string `json:"rendered"`
}

// metalMode is talosctl's `--mode metal`: installs to disk, not in a container.
type metalMode struct{}

func (metalMode) String() string        { return "metal" }
func (metalMode) RequiresInstall() bool { return true }
func (metalMode) InContainer() bool     { return false }

var _ validation.RuntimeMode = metalMode{}

func main() {
	var req request

	decoder := json.NewDecoder(os.Stdin)
	decoder.DisallowUnknownFields()

	if err := decoder.Decode(&req); err != nil {
		fail("cannot read the request on stdin: %v", err)
	}

	rep := report{Machinery: machineryVersion(), Checked: []string{}, Problems: []problem{}, Rendered: map[string]string{}}
	run(&req, &rep)

	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")

	if err := out.Encode(rep); err != nil {
		fail("cannot write the report: %v", err)
	}

	if len(rep.Problems) > 0 {
		os.Exit(1)
	}
}

func run(req *request, rep *report) {
	contract, err := config.ParseContractFromVersion(req.TalosVersion)
	if err != nil {
		fail("talosVersion %q: %v", req.TalosVersion, err)
	}

	// talosctl's `--kubernetes-version` defaults to the library's own default.
	kubernetesVersion := req.KubernetesVersion
	if kubernetesVersion == "" {
		kubernetesVersion = constants.DefaultKubernetesVersion
	}

	// `talosctl gen config` refuses patches it cannot read (`error parsing config JSON patch`).
	cpPatches, err := configpatcher.LoadPatches(req.ControlPlanePatches)
	if err != nil {
		rep.add(problem{Role: "controlplane", Stage: "read-patch"}, err)
	}

	workerPatches, err := configpatcher.LoadPatches(req.WorkerPatches)
	if err != nil {
		rep.add(problem{Role: "worker", Stage: "read-patch"}, err)
	}

	if len(rep.Problems) > 0 {
		return
	}

	configBundle, err := bundle.NewBundle(
		bundle.WithInputOptions(&bundle.InputOptions{
			ClusterName: req.ClusterName,
			Endpoint:    req.Endpoint,
			KubeVersion: kubernetesVersion,
			GenOptions:  []generate.Option{generate.WithVersionContract(contract)},
		}),
		bundle.WithPatchControlPlane(cpPatches),
		bundle.WithPatchWorker(workerPatches),
		bundle.WithVerbose(false),
	)
	if err != nil {
		rep.add(problem{Stage: "gen"}, err)

		return
	}

	for _, n := range req.Nodes {
		checkNode(configBundle, n, rep)
	}
}

func checkNode(configBundle *bundle.Bundle, n node, rep *report) {
	at := problem{Node: n.Name, Role: n.Role}

	var machineType machine.Type

	switch n.Role {
	case "controlplane":
		machineType = machine.TypeControlPlane
	case "worker":
		machineType = machine.TypeWorker
	default:
		fail("node %q: role must be controlplane or worker, not %q", n.Name, n.Role)
	}

	rep.Checked = append(rep.Checked, n.Name)

	// What `talosctl gen config` writes to controlplane.yaml / worker.yaml.
	base, err := configBundle.Serialize(encoder.CommentsDisabled, machineType)
	if err != nil {
		rep.add(at.stage("gen"), err)

		return
	}

	// `talosctl machineconfig patch <role>.yaml --patch @node.yaml`
	nodePatches, err := configpatcher.LoadPatches(n.Patches)
	if err != nil {
		rep.add(at.stage("read-patch"), err)

		return
	}

	patched, err := configpatcher.Apply(configpatcher.WithBytes(base), nodePatches)
	if err != nil {
		rep.add(at.stage("patch"), err)

		return
	}

	rendered, err := patched.Bytes()
	if err != nil {
		rep.add(at.stage("patch"), err)

		return
	}

	rep.Rendered[n.Name] = string(rendered)

	// `talosctl validate --config <node>.yaml --mode metal --strict`
	cfg, err := configloader.NewFromBytes(rendered)
	if err != nil {
		rep.add(at.stage("load"), err)

		return
	}

	warnings, err := cfg.Validate(metalMode{}, validation.WithLocal(), validation.WithStrict())
	for _, w := range warnings {
		rep.Problems = append(rep.Problems, problem{Node: n.Name, Role: n.Role, Stage: "validate", Message: "warning: " + w})
	}

	if err != nil {
		rep.add(at.stage("validate"), err)
	}
}

func (p problem) stage(stage string) problem {
	p.Stage = stage

	return p
}

// add records err, one problem per error when Talos joined several.
func (rep *report) add(at problem, err error) {
	for _, e := range split(err) {
		p := at
		p.Message = e.Error()
		rep.Problems = append(rep.Problems, p)
	}
}

func split(err error) []error {
	var multi interface{ WrappedErrors() []error }
	if errors.As(err, &multi) {
		var all []error
		for _, e := range multi.WrappedErrors() {
			all = append(all, split(e)...)
		}

		return all
	}

	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var all []error
		for _, e := range joined.Unwrap() {
			all = append(all, split(e)...)
		}

		return all
	}

	return []error{err}
}

func machineryVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}

	for _, dep := range info.Deps {
		if dep.Path == "github.com/siderolabs/talos/pkg/machinery" {
			return dep.Version
		}
	}

	return "unknown"
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "talos-oracle: "+format+"\n", args...)
	os.Exit(2)
}
