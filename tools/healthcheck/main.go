// Command osv-healthcheck is a test oracle for osv-gitops: it judges Kubernetes objects with the
// same code Flux and Argo CD run, so the TypeScript evaluators can be checked against the real
// agents.
//
// Input (stdin): a JSON array of cases, each one of
//
//	{"engine": "cel", "exprs": {"apiVersion": "...", "kind": "...", "current": "...", "failed": "...", "inProgress": "..."}, "object": {...}}
//	{"engine": "lua", "script": "...", "object": {...}}
//
// Output (stdout): one JSON verdict per case and per line, in input order:
//
//	cel: {"status": "Current"|"Failed"|"InProgress"|"Unknown"|"Invalid", "error": "..."}
//	lua: {"status": "Healthy"|"Progressing"|"Degraded"|"Suspended"|"Missing"|"Unknown"|"", "message": "...", "error": "..."}
//
// CEL goes through Flux's own package, github.com/fluxcd/pkg/runtime/cel (the version the
// kustomize-controller release uses): NewStatusReader builds the evaluators exactly as the
// controller does, and ReadStatusForObject runs them through the kstatus generic reader, which
// turns an evaluation error into status Unknown. "Invalid" means the controller would refuse the
// expressions (it marks the Kustomization Stalled with reason InvalidCELExpression).
//
// Lua is gopher-lua set up the way Argo CD sets it up (util/lua/lua.go in argo-cd): only the
// package, base and table libraries (plus a reduced "os" behind require), the object as the
// global "obj", a one-second deadline, and the returned table read back through gopher-json and
// encoding/json.
// Argo CD's Go module cannot be imported on its own (it replaces its gitops-engine module with a
// local directory), so that setup is reproduced here in a few lines.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	kustomize "github.com/fluxcd/pkg/apis/kustomize"
	fluxcel "github.com/fluxcd/pkg/runtime/cel"
	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	luajson "layeh.com/gopher-json"
)

type testCase struct {
	Engine string                       `json:"engine"`
	Exprs  *kustomize.CustomHealthCheck `json:"exprs,omitempty"`
	Script string                       `json:"script,omitempty"`
	Object json.RawMessage              `json:"object"`
}

type verdict struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
	Error   string `json:"error,omitempty"`
}

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "-h" || os.Args[1] == "--help") {
		fmt.Fprintln(os.Stderr, "usage: osv-healthcheck < cases.json  (see the package comment in main.go)")
		return
	}
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail("reading stdin: %v", err)
	}
	var cases []testCase
	if err := json.Unmarshal(input, &cases); err != nil {
		fail("stdin is not a JSON array of cases: %v", err)
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for i, c := range cases {
		v, err := judge(c)
		if err != nil {
			out.Flush()
			fail("case %d: %v", i, err)
		}
		if err := enc.Encode(v); err != nil {
			fail("writing verdict %d: %v", i, err)
		}
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "osv-healthcheck: "+format+"\n", args...)
	os.Exit(2)
}

// judge returns the verdict for one case, or an error when the case itself is malformed.
func judge(c testCase) (verdict, error) {
	obj, err := decodeObject(c.Object)
	if err != nil {
		return verdict{}, err
	}
	switch c.Engine {
	case "cel":
		if c.Exprs == nil {
			return verdict{}, errors.New(`engine "cel" needs "exprs"`)
		}
		return fluxVerdict(*c.Exprs, obj), nil
	case "lua":
		return argoVerdict(obj, c.Script), nil
	default:
		return verdict{}, fmt.Errorf("unknown engine %q (want cel or lua)", c.Engine)
	}
}

// decodeObject decodes the object the way the API client hands it to both agents: through the
// unstructured JSON scheme, so whole numbers become int64 and others float64. Flux's built-in
// observedGeneration check only fires for int64 values, so this matters.
func decodeObject(raw json.RawMessage) (*unstructured.Unstructured, error) {
	if len(raw) == 0 {
		return nil, errors.New(`missing "object"`)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(raw); err != nil {
		return nil, fmt.Errorf("object: %w", err)
	}
	return u, nil
}

// fluxVerdict runs Flux's CEL status reader on one object.
func fluxVerdict(hc kustomize.CustomHealthCheck, obj *unstructured.Unstructured) verdict {
	ctor, err := fluxcel.NewStatusReader([]kustomize.CustomHealthCheck{hc})
	if err != nil {
		return verdict{Status: "Invalid", Error: err.Error()}
	}
	reader := ctor(nil)
	rs, err := reader.ReadStatusForObject(context.Background(), nil, obj)
	if err != nil {
		return verdict{Status: "Invalid", Error: err.Error()}
	}
	v := verdict{Status: rs.Status.String(), Message: rs.Message}
	if rs.Error != nil {
		v.Error = rs.Error.Error()
	}
	return v
}

// healthStatus is the shape Argo CD unmarshals the Lua result into (gitops-engine pkg/health).
type healthStatus struct {
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
}

var validHealth = map[string]bool{
	"Unknown": true, "Progressing": true, "Suspended": true, "Healthy": true, "Degraded": true, "Missing": true,
}

// argoVerdict reproduces gitops-engine's GetResourceHealth for an object with a Lua override:
// the pending-deletion shortcut, then the script; a script error becomes Unknown with the error
// text as message.
func argoVerdict(obj *unstructured.Unstructured, script string) verdict {
	if obj.GetDeletionTimestamp() != nil && !hasHookFinalizer(obj) {
		return verdict{Status: "Progressing", Message: "Pending deletion"}
	}
	hs, err := executeHealthLua(obj, script)
	if err != nil {
		return verdict{Status: "Unknown", Message: err.Error(), Error: err.Error()}
	}
	return verdict{Status: hs.Status, Message: hs.Message}
}

func hasHookFinalizer(obj *unstructured.Unstructured) bool {
	for _, f := range obj.GetFinalizers() {
		if f == "argocd.argoproj.io/hook-finalizer" {
			return true
		}
	}
	return false
}

func executeHealthLua(obj *unstructured.Unstructured, script string) (*healthStatus, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	libs := []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.OsLibName, openSafeOs},
	}
	for _, lib := range libs {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return nil, err
		}
	}
	l.PreloadModule(lua.OsLibName, safeOsLoader)

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)

	l.SetGlobal("actionParams", l.CreateTable(0, 0))
	l.SetGlobal("obj", toLua(l, obj.Object))

	fn, err := l.LoadString(script)
	if err == nil {
		l.Push(fn)
		err = l.PCall(0, lua.MultRet, nil)
	}
	var apiErr *lua.ApiError
	if errors.As(err, &apiErr) && apiErr.Type == lua.ApiErrorRun {
		apiErr.StackTrace = ""
		err = apiErr
	}
	if err != nil {
		return nil, err
	}

	ret := l.Get(-1)
	switch ret.Type() {
	case lua.LTNil:
		return &healthStatus{}, nil
	case lua.LTTable:
		data, err := luajson.Encode(ret)
		if err != nil {
			return nil, err
		}
		hs := &healthStatus{}
		if err := json.Unmarshal(data, hs); err != nil {
			// Argo CD treats any type mismatch (an empty table encodes as an array) as "no verdict".
			var typeErr *json.UnmarshalTypeError
			if errors.As(err, &typeErr) {
				return &healthStatus{}, nil
			}
			return nil, err
		}
		if !validHealth[hs.Status] {
			return &healthStatus{Status: "Unknown", Message: "Lua returned an invalid health status"}, nil
		}
		return hs, nil
	default:
		return nil, fmt.Errorf("expect table output from Lua script, not %s", ret.Type().String())
	}
}

// toLua converts decoded JSON into Lua values the way Argo CD does: every number is a Lua number,
// lists become sequences, maps become hash tables.
func toLua(l *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case json.Number:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case int:
		return lua.LNumber(v)
	case int32:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case []any:
		t := l.CreateTable(len(v), 0)
		for _, item := range v {
			t.Append(toLua(l, item))
		}
		return t
	case map[string]any:
		t := l.CreateTable(0, len(v))
		for k, item := range v {
			t.RawSetH(lua.LString(k), toLua(l, item))
		}
		return t
	}
	return lua.LNil
}

// Argo CD's reduced os library offers time and date; health scripts never need the clock, so
// only os.time() is provided here (no arguments). As in Argo CD, the open function registers it
// under the "table" module name, which gopher-lua's RegisterModule ignores because "table" is
// already loaded: the functions are reachable only through require("os").
var safeOsFuncs = map[string]lua.LGFunction{
	"time": func(l *lua.LState) int {
		l.Push(lua.LNumber(time.Now().Unix()))
		return 1
	},
}

func openSafeOs(l *lua.LState) int {
	l.Push(l.RegisterModule(lua.TabLibName, safeOsFuncs))
	return 1
}

func safeOsLoader(l *lua.LState) int {
	l.Push(l.SetFuncs(l.NewTable(), safeOsFuncs))
	return 1
}
