/**
 * The health verdicts Flux and Argo CD would give for one object, computed in-process for the
 * osv-gitops simulator. Each function mirrors the agent's own code path; the Go helper in
 * `tools/healthcheck` runs the real code, and the tests in `test/health` hold the two together.
 *
 * Flux (fluxcd/pkg `runtime/cel`, used by kustomize-controller for `healthCheckExprs`):
 * 1. The entry applies when its API group matches the object's and its kind matches or is empty.
 * 2. If `status.observedGeneration` is an integer and differs from `metadata.generation`, the
 *    verdict is InProgress and no expression runs.
 * 3. `inProgress`, then `failed`, then `current`: the first that evaluates to true wins; when
 *    none does, InProgress. Expressions are parsed, never type-checked, and see the object's
 *    top-level fields as variables; a missing variable is an error, even inside `has()`.
 * 4. An evaluation error aborts the verdict; the kstatus reader then reports Unknown, which
 *    Flux's wait loop treats as "not ready yet" until the timeout.
 *
 * Argo CD (argo-cd `util/lua/lua.go`, gitops-engine `pkg/health/health.go`):
 * 1. An object being deleted (without Argo CD's hook finalizer) is Progressing "Pending deletion".
 * 2. The script runs with only the package, base and table libraries, the object as the global
 *    `obj`, and a one-second deadline. There is no `os` global: Argo CD's reduced os library is
 *    only reachable as `require("os")` (its attempt to open it as a global is a no-op in
 *    gopher-lua), and only `os.time()` is mirrored here.
 * 3. The last returned value must be a table (nil gives an empty verdict). It is encoded to JSON
 *    and decoded into `{status, message}`: an empty or list-like table, or a field of the wrong
 *    type, gives an empty verdict; a status outside the known set gives Unknown "Lua returned an
 *    invalid health status".
 * 4. Any error becomes Unknown with the error text as message.
 *
 * fengari runs Lua 5.3 where Argo CD runs gopher-lua (Lua 5.1), so scripts are first checked for
 * syntax gopher-lua rejects (`//`, bitwise operators). Whole numbers are passed as Lua integers so
 * `tostring` prints them as gopher-lua does.
 */
import { celEnv, celError, isCelError, parse, plan } from '@bufbuild/cel';
import type { CelInput } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { lauxlib, lua, lualib, to_jsstring, to_luastring } from 'fengari';
import type { LuaState } from 'fengari';
import type { FluxHealthCheckExpr } from '../agents/flux/health-checks.js';

// ---------------------------------------------------------------------------------------------
// Flux
// ---------------------------------------------------------------------------------------------

/** The verdict of Flux's status evaluator. */
export type FluxHealthStatus = 'Current' | 'Failed' | 'InProgress';

/** What Flux's poller records for the object: an evaluation error shows as Unknown. */
export type FluxPolledStatus = FluxHealthStatus | 'Unknown';

export type HealthEvaluationStage = 'parse' | 'unsupported' | 'eval';

/**
 * A health check that cannot give a verdict. `parse`: Flux refuses the Kustomization
 * (InvalidCELExpression, stalled). `unsupported`: the entry does not apply to this object's kind.
 * `eval`: the expression failed on this object; Flux's poller reports Unknown.
 */
export class HealthEvaluationError extends Error {
  readonly stage: HealthEvaluationStage;

  constructor(stage: HealthEvaluationStage, message: string) {
    super(message);
    this.name = 'HealthEvaluationError';
    this.stage = stage;
  }
}

type CelProgram = ReturnType<typeof plan>;
type CelAst = ReturnType<typeof parse>['expr'];

interface Compiled {
  readonly program: CelProgram;
  /** Top-level identifiers the expression reads (candidates for "no such attribute"). */
  readonly idents: readonly string[];
}

/** Flux enables cel-go's strings extension; the sets and encoders extensions have no JS port. */
const CEL_ENV = celEnv({ funcs: strings });

/** Identifiers cel-go resolves as type names when no variable has that name. */
const CEL_TYPE_NAMES = new Set(['bool', 'bytes', 'double', 'int', 'list', 'map', 'null_type', 'string', 'type', 'uint', 'dyn']);

const compiledCache = new Map<string, Compiled>();
const COMPILED_CACHE_LIMIT = 512;

function compile(expr: string, field: string): Compiled {
  const cached = compiledCache.get(expr);
  if (cached !== undefined) return cached;
  let ast: CelAst;
  try {
    ast = parse(expr).expr;
  } catch (e) {
    throw new HealthEvaluationError('parse', `failed to parse the expression ${field}: ${errorText(e)}`);
  }
  const idents = new Set<string>();
  const bound = new Set<string>();
  walkCel(ast, (node) => {
    const kind = node.exprKind;
    if (kind.case === 'identExpr') idents.add(kind.value.name);
    if (kind.case === 'comprehensionExpr') {
      for (const v of [kind.value.iterVar, kind.value.iterVar2, kind.value.accuVar]) if (v !== '') bound.add(v);
    }
    // cel-go's parser rejects has() on anything but a field selection; this parser leaves such a
    // call in place and fails only at run time, so refuse it here as Flux would.
    if (kind.case === 'callExpr' && kind.value.function === 'has' && kind.value.target === undefined) {
      throw new HealthEvaluationError('parse', `failed to parse the expression ${field}: invalid argument to has() macro`);
    }
  });
  const compiled: Compiled = {
    program: plan(CEL_ENV, ast),
    idents: [...idents].filter((n) => !bound.has(n) && !CEL_TYPE_NAMES.has(n)),
  };
  if (compiledCache.size >= COMPILED_CACHE_LIMIT) compiledCache.clear();
  compiledCache.set(expr, compiled);
  return compiled;
}

function walkCel(node: CelAst | undefined, visit: (node: CelAst) => void): void {
  if (node === undefined) return;
  visit(node);
  const kind = node.exprKind;
  switch (kind.case) {
    case 'selectExpr':
      walkCel(kind.value.operand, visit);
      break;
    case 'callExpr':
      walkCel(kind.value.target, visit);
      for (const a of kind.value.args) walkCel(a, visit);
      break;
    case 'listExpr':
      for (const e of kind.value.elements) walkCel(e, visit);
      break;
    case 'structExpr':
      for (const entry of kind.value.entries) {
        if (entry.keyKind.case === 'mapKey') walkCel(entry.keyKind.value, visit);
        walkCel(entry.value, visit);
      }
      break;
    case 'comprehensionExpr':
      walkCel(kind.value.iterRange, visit);
      walkCel(kind.value.accuInit, visit);
      walkCel(kind.value.loopCondition, visit);
      walkCel(kind.value.loopStep, visit);
      walkCel(kind.value.result, visit);
      break;
    default:
      break;
  }
}

/**
 * Converts decoded JSON the way the Kubernetes client hands it to cel-go: whole numbers are
 * int64 (CEL int), other numbers float64 (CEL double), objects are maps.
 */
function toCel(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toCel);
  if (typeof value === 'object') {
    const m = new Map<string, unknown>();
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v !== undefined) m.set(k, toCel(v));
    }
    return m;
  }
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `unstructured.NestedInt64`: present and an integer, else undefined. */
function nestedInt(obj: Record<string, unknown>, parent: string, field: string): number | undefined {
  const p = obj[parent];
  if (!isRecord(p)) return undefined;
  const v = p[field];
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Flux's verdict for one object and one `healthCheckExprs` entry.
 * @throws HealthEvaluationError when an expression does not parse, the entry does not apply to
 * the object's kind, or an expression fails on this object (Flux's poller then says Unknown).
 */
export function evaluateFluxHealth(exprs: FluxHealthCheckExpr, obj: Record<string, unknown>): FluxHealthStatus {
  if (exprs.current === '') throw new HealthEvaluationError('parse', 'expression Current not specified');
  const current = compile(exprs.current, 'Current');
  const failed = exprs.failed !== undefined && exprs.failed !== '' ? compile(exprs.failed, 'Failed') : undefined;
  const inProgress =
    exprs.inProgress !== undefined && exprs.inProgress !== '' ? compile(exprs.inProgress, 'InProgress') : undefined;

  const apiVersion = typeof obj['apiVersion'] === 'string' ? obj['apiVersion'] : '';
  const kind = typeof obj['kind'] === 'string' ? obj['kind'] : '';
  const entryKind = exprs.kind ?? '';
  if (groupOf(exprs.apiVersion) !== groupOf(apiVersion) || (entryKind !== '' && entryKind !== kind)) {
    const gk = groupOf(apiVersion) === '' ? kind : `${kind}.${groupOf(apiVersion)}`;
    throw new HealthEvaluationError('unsupported', `the GroupKind ${gk} is not supported`);
  }

  const observed = nestedInt(obj, 'status', 'observedGeneration');
  if (observed !== undefined) {
    const generation = nestedInt(obj, 'metadata', 'generation');
    if (generation !== undefined && observed !== generation) return 'InProgress';
  }

  const bindings: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) bindings[k] = toCel(v);

  const steps: [Compiled | undefined, string, FluxHealthStatus][] = [
    [inProgress, exprs.inProgress ?? '', 'InProgress'],
    [failed, exprs.failed ?? '', 'Failed'],
    [current, exprs.current, 'Current'],
  ];
  for (const [compiled, source, verdict] of steps) {
    if (compiled === undefined) continue;
    const vars: Record<string, unknown> = { ...bindings };
    for (const name of compiled.idents) {
      if (!(name in vars)) vars[name] = celError(`no such attribute(s): ${name}`);
    }
    const result = compiled.program(vars as Record<string, CelInput>);
    if (isCelError(result)) {
      throw new HealthEvaluationError('eval', `failed to evaluate the CEL expression '${source}': ${result.message}`);
    }
    if (typeof result !== 'boolean') {
      throw new HealthEvaluationError('eval', `failed to evaluate CEL expression as boolean: '${source}'`);
    }
    if (result) return verdict;
  }
  return 'InProgress';
}

export interface FluxPolledResult {
  readonly status: FluxPolledStatus;
  readonly error?: string;
}

/**
 * What Flux's poller records for the object: the verdict, or Unknown with the error when an
 * expression fails on it. Expressions that do not parse, or an entry for another kind, still throw.
 */
export function readFluxStatus(exprs: FluxHealthCheckExpr, obj: Record<string, unknown>): FluxPolledResult {
  try {
    return { status: evaluateFluxHealth(exprs, obj) };
  } catch (e) {
    if (e instanceof HealthEvaluationError && e.stage === 'eval') return { status: 'Unknown', error: e.message };
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Argo CD
// ---------------------------------------------------------------------------------------------

export type ArgoHealthStatus = 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended' | 'Missing' | 'Unknown';

export interface ArgoHealth {
  /** Empty when the script returned nil or a table Argo CD cannot read as a verdict. */
  readonly status: ArgoHealthStatus | '';
  readonly message: string;
  /** Set when the script failed; the status is then Unknown. */
  readonly error?: string;
}

const VALID_ARGO_STATUSES: ReadonlySet<string> = new Set<ArgoHealthStatus>([
  'Healthy',
  'Progressing',
  'Degraded',
  'Suspended',
  'Missing',
  'Unknown',
]);

const HOOK_FINALIZER = 'argocd.argoproj.io/hook-finalizer';
const LUA_DEADLINE_MS = 1000;
const INT32_MAX = 2147483647;

/**
 * Finds syntax outside Lua 5.1. `gopherRejects` lists what gopher-lua (and so Argo CD) fails to
 * parse: `//`, `&`, `|`, `~` (other than `~=`), `<<`, `>>`. `other` lists 5.2+ syntax gopher-lua
 * happens to accept (`goto`, `::label::`), which our scripts avoid as well.
 */
export function luaSyntaxBeyond51(script: string): { gopherRejects: string[]; other: string[] } {
  const gopherRejects: string[] = [];
  const other: string[] = [];
  let line = 1;
  let i = 0;
  const n = script.length;
  const longBracket = (at: number): number => {
    // returns the level of a long bracket opening at `at` ("[", "=" * level, "["), or -1
    if (script[at] !== '[') return -1;
    let j = at + 1;
    while (script[j] === '=') j++;
    return script[j] === '[' ? j - at - 1 : -1;
  };
  const skipLong = (at: number, level: number): number => {
    const close = `]${'='.repeat(level)}]`;
    const end = script.indexOf(close, at + level + 2);
    const stop = end < 0 ? n : end + close.length;
    for (let k = at; k < stop; k++) if (script[k] === '\n') line++;
    return stop;
  };
  while (i < n) {
    const ch = script[i] ?? '';
    const next = script[i + 1] ?? '';
    if (ch === '\n') {
      line++;
      i++;
    } else if (ch === '-' && next === '-') {
      const level = longBracket(i + 2);
      if (level >= 0) i = skipLong(i + 2, level);
      else {
        const eol = script.indexOf('\n', i);
        i = eol < 0 ? n : eol;
      }
    } else if (ch === '"' || ch === "'") {
      let j = i + 1;
      while (j < n && script[j] !== ch && script[j] !== '\n') j += script[j] === '\\' ? 2 : 1;
      i = j + 1;
    } else if (ch === '[' && longBracket(i) >= 0) {
      i = skipLong(i, longBracket(i));
    } else if (/[A-Za-z_]/.test(ch)) {
      let j = i;
      while (j < n && /[A-Za-z0-9_]/.test(script[j] ?? '')) j++;
      if (script.slice(i, j) === 'goto') other.push(`line ${line}: goto`);
      i = j;
    } else {
      const two = ch + next;
      if (two === '//' || two === '<<' || two === '>>') {
        gopherRejects.push(`line ${line}: ${two}`);
        i += 2;
      } else if (two === '::') {
        other.push(`line ${line}: ::label::`);
        const close = script.indexOf('::', i + 2);
        i = close < 0 ? n : close + 2;
      } else if (two === '~=' || two === '==' || two === '<=' || two === '>=') {
        i += 2;
      } else {
        if (ch === '&' || ch === '|' || ch === '~') gopherRejects.push(`line ${line}: ${ch}`);
        i++;
      }
    }
  }
  return { gopherRejects, other };
}

function pushJson(L: LuaState, value: unknown): void {
  // a deep object (a control plane with its schema defaults) needs more than Lua's 20 guaranteed
  // stack slots: each level holds its table and the key being set
  if (!lua.lua_checkstack(L, 3)) throw new Error('object too deep for the Lua stack');
  if (value === null || value === undefined) lua.lua_pushnil(L);
  else if (typeof value === 'boolean') lua.lua_pushboolean(L, value);
  else if (typeof value === 'number') {
    if (Number.isInteger(value) && Math.abs(value) <= INT32_MAX) lua.lua_pushinteger(L, value);
    else lua.lua_pushnumber(L, value);
  } else if (typeof value === 'bigint') {
    const asNumber = Number(value);
    if (Math.abs(asNumber) <= INT32_MAX) lua.lua_pushinteger(L, asNumber);
    else lua.lua_pushnumber(L, asNumber);
  } else if (typeof value === 'string') lua.lua_pushstring(L, to_luastring(value));
  else if (Array.isArray(value)) {
    lua.lua_createtable(L, value.length, 0);
    let index = 0;
    for (const item of value) {
      if (item === null || item === undefined) continue; // gopher-lua's Append skips nil
      pushJson(L, item);
      lua.lua_rawseti(L, -2, ++index);
    }
  } else if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== null && v !== undefined);
    lua.lua_createtable(L, 0, entries.length);
    for (const [k, v] of entries) {
      lua.lua_pushstring(L, to_luastring(k));
      pushJson(L, v);
      lua.lua_rawset(L, -3);
    }
  } else lua.lua_pushnil(L);
}

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

class LuaEncodeError extends Error {}

/** Encodes the Lua value at `idx` as gopher-json does; throws what it would refuse. */
function luaToJson(L: LuaState, idx: number, depth: number): JsonValue {
  const t = lua.lua_type(L, idx);
  if (t === lua.LUA_TNIL) return null;
  if (t === lua.LUA_TBOOLEAN) return lua.lua_toboolean(L, idx);
  if (t === lua.LUA_TNUMBER) {
    const v = lua.lua_tonumber(L, idx);
    if (!Number.isFinite(v)) throw new LuaEncodeError(`json: unsupported value: ${v}`);
    return v;
  }
  if (t === lua.LUA_TSTRING) return lua.lua_tojsstring(L, idx);
  if (t !== lua.LUA_TTABLE) throw new LuaEncodeError(`cannot encode ${to_jsstring(lua.lua_typename(L, t))} to JSON`);
  if (depth > 100) throw new LuaEncodeError('cannot encode recursively nested tables to JSON');
  const numbered = new Map<number, JsonValue>();
  const named: Record<string, JsonValue> = {};
  let keyKind: 'none' | 'number' | 'string' = 'none';
  lua.lua_pushnil(L);
  while (lua.lua_next(L, idx) !== 0) {
    const kt = lua.lua_type(L, -2);
    const top = lua.lua_gettop(L);
    if (kt === lua.LUA_TNUMBER && keyKind !== 'string') {
      keyKind = 'number';
      numbered.set(lua.lua_tonumber(L, -2), luaToJson(L, top, depth + 1));
    } else if (kt === lua.LUA_TSTRING && keyKind !== 'number') {
      keyKind = 'string';
      named[lua.lua_tojsstring(L, -2)] = luaToJson(L, top, depth + 1);
    } else {
      lua.lua_pop(L, 2);
      throw new LuaEncodeError('cannot encode mixed or invalid key types');
    }
    lua.lua_pop(L, 1);
  }
  if (keyKind === 'none') return [];
  if (keyKind === 'string') return named;
  const arr: JsonValue[] = [];
  for (let k = 1; k <= numbered.size; k++) {
    if (!numbered.has(k)) throw new LuaEncodeError('cannot encode sparse array');
    arr.push(numbered.get(k) ?? null);
  }
  return arr;
}

/** encoding/json into `{status, message}`: exact key match first, then case-insensitive. */
function decodeHealth(json: JsonValue): { status: string; message: string } | 'type-mismatch' {
  if (!isRecord(json)) return 'type-mismatch';
  const out = { status: '', message: '' };
  let mismatch = false;
  for (const key of Object.keys(json).sort()) {
    // Keys arrive sorted, so an exact "status" is applied after "Status", as in Go.
    const field = key.toLowerCase();
    if (field !== 'status' && field !== 'message') continue;
    const v = json[key];
    if (typeof v === 'string') out[field] = v;
    else if (v !== null) mismatch = true;
  }
  return mismatch ? 'type-mismatch' : out;
}

function openArgoLibraries(L: LuaState): void {
  lauxlib.luaL_requiref(L, 'package', lualib.luaopen_package, 1);
  lauxlib.luaL_requiref(L, '_G', lualib.luaopen_base, 1);
  lauxlib.luaL_requiref(L, 'table', lualib.luaopen_table, 1);
  lua.lua_settop(L, 0);
  const osTime = (state: LuaState): number => {
    lua.lua_pushinteger(state, Math.floor(Date.now() / 1000));
    return 1;
  };
  // Argo CD also "opens" its reduced os library under the name "table", which gopher-lua turns
  // into a no-op because "table" is already loaded; the library is reachable through require only.
  lua.lua_getglobal(L, 'package');
  lua.lua_getfield(L, -1, 'preload');
  lua.lua_pushcfunction(L, (state: LuaState): number => {
    lua.lua_createtable(state, 0, 1);
    lua.lua_pushcfunction(state, osTime);
    lua.lua_setfield(state, -2, 'time');
    return 1;
  });
  lua.lua_setfield(L, -2, 'os');
  lua.lua_settop(L, 0);
}

function luaErrorText(L: LuaState): string {
  if (lua.lua_type(L, -1) === lua.LUA_TSTRING) return lua.lua_tojsstring(L, -1);
  return to_jsstring(lauxlib.luaL_tolstring(L, -1));
}

function runHealthScript(script: string, obj: Record<string, unknown>): ArgoHealth {
  const beyond = luaSyntaxBeyond51(script).gopherRejects;
  if (beyond.length > 0) throw new Error(`<string>: syntax error (not Lua 5.1): ${beyond.join(', ')}`);
  const L = lauxlib.luaL_newstate();
  openArgoLibraries(L);
  lua.lua_createtable(L, 0, 0);
  lua.lua_setglobal(L, 'actionParams');
  pushJson(L, obj);
  lua.lua_setglobal(L, 'obj');

  const code = to_luastring(script);
  if (lauxlib.luaL_loadbuffer(L, code, code.length, '=<string>') !== lua.LUA_OK) throw new Error(luaErrorText(L));
  const deadline = Date.now() + LUA_DEADLINE_MS;
  lua.lua_sethook(
    L,
    (state) => {
      if (Date.now() > deadline) lauxlib.luaL_error(state, 'context deadline exceeded');
    },
    lua.LUA_MASKCOUNT,
    1000,
  );
  if (lua.lua_pcall(L, 0, lua.LUA_MULTRET, 0) !== lua.LUA_OK) throw new Error(luaErrorText(L));
  lua.lua_sethook(L, null, 0, 0);

  const top = lua.lua_gettop(L);
  const t = top === 0 ? lua.LUA_TNIL : lua.lua_type(L, top);
  if (t === lua.LUA_TNIL) return { status: '', message: '' };
  if (t !== lua.LUA_TTABLE) {
    throw new Error(`expect table output from Lua script, not ${to_jsstring(lua.lua_typename(L, t))}`);
  }
  const decoded = decodeHealth(luaToJson(L, top, 0));
  if (decoded === 'type-mismatch') return { status: '', message: '' };
  if (!VALID_ARGO_STATUSES.has(decoded.status)) {
    return { status: 'Unknown', message: 'Lua returned an invalid health status' };
  }
  return { status: decoded.status as ArgoHealthStatus, message: decoded.message };
}

/**
 * Argo CD's verdict for one object with a Lua health customization. Never throws: a failing
 * script gives Unknown with the error as message, as in Argo CD.
 */
export function evaluateArgoHealth(script: string, obj: Record<string, unknown>): ArgoHealth {
  const metadata = isRecord(obj['metadata']) ? obj['metadata'] : {};
  const finalizers = Array.isArray(metadata['finalizers']) ? metadata['finalizers'] : [];
  if (metadata['deletionTimestamp'] != null && !finalizers.includes(HOOK_FINALIZER)) {
    return { status: 'Progressing', message: 'Pending deletion' };
  }
  try {
    return runHealthScript(script, obj);
  } catch (e) {
    const message = errorText(e);
    return { status: 'Unknown', message, error: message };
  }
}
