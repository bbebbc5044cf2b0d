/**
 * Every status sample in samples/ is judged three ways and must agree:
 * - the expected verdict written in the sample;
 * - our JavaScript evaluators (src/health/evaluate.ts), which the simulator uses;
 * - the Go helper running Flux's own CEL status reader and gopher-lua set up as Argo CD does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { HEALTH_GATE_ANNOTATION, isOpenStackVersionGate, type OpenStackVersionGate } from '../../src/health/annotations.js';
import {
  celString,
  dataPlaneDeploymentExprs,
  openStackVersionGateExprs,
  readyConditionExprs,
  type FluxHealthCheckExpr,
} from '../../src/agents/flux/health-checks.js';
import {
  evaluateArgoHealth,
  evaluateFluxHealth,
  HealthEvaluationError,
  luaSyntaxBeyond51,
  readFluxStatus,
  type ArgoHealth,
  type FluxPolledStatus,
} from '../../src/health/evaluate.js';
import {
  APPLICATION_HEALTH_LUA,
  ARGO_HEALTH_CHECKS,
  argoHealthCustomizations,
  argoResourceHealthChecks,
  DATAPLANE_DEPLOYMENT_HEALTH_LUA,
  OPENSTACK_VERSION_HEALTH_LUA,
  READY_CONDITION_HEALTH_LUA,
} from '../../src/agents/argocd/health-checks.js';
import { buildOracle, runOracle, type OracleCase, type OracleVerdict } from './go-oracle.js';

type K8sObject = Record<string, unknown> & { apiVersion: string; kind: string };

interface Sample {
  readonly name: string;
  readonly description: string;
  readonly gate?: { conditionType: OpenStackVersionGate; targetVersion: string; requireDeployedVersion?: boolean };
  readonly expect: { flux?: FluxPolledStatus; argo: { status: string; message: string } };
  readonly object: K8sObject;
}

const SAMPLES_DIR = join(import.meta.dirname, 'samples');

function loadSamples(): Sample[] {
  return readdirSync(SAMPLES_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => {
      const doc = parseYaml(readFileSync(join(SAMPLES_DIR, file), 'utf8')) as Omit<Sample, 'name'>;
      const name = file.replace(/\.yaml$/, '');
      if (typeof doc.object?.kind !== 'string' || typeof doc.object.apiVersion !== 'string') {
        throw new Error(`${file}: object needs apiVersion and kind`);
      }
      if (doc.expect?.argo === undefined) throw new Error(`${file}: expect.argo is required`);
      if (doc.gate !== undefined && !isOpenStackVersionGate(doc.gate.conditionType)) {
        throw new Error(`${file}: unknown gate ${doc.gate.conditionType}`);
      }
      return { ...doc, name };
    });
}

const samples = loadSamples();
const customizations = argoHealthCustomizations();

function groupKind(obj: K8sObject): string {
  const group = obj.apiVersion.includes('/') ? obj.apiVersion.split('/')[0] : '';
  return `${group}_${obj.kind}`;
}

/** The Flux entry osv-gitops renders for the sample's kind; undefined for kinds Flux does not gate. */
function fluxExprsFor(sample: Sample): FluxHealthCheckExpr | undefined {
  const obj = sample.object;
  switch (obj.kind) {
    case 'OpenStackVersion':
      if (sample.gate === undefined) throw new Error(`${sample.name}: OpenStackVersion samples need a gate`);
      return openStackVersionGateExprs(sample.gate);
    case 'OpenStackDataPlaneDeployment':
      return dataPlaneDeploymentExprs();
    case 'OpenStackControlPlane':
    case 'OpenStackDataPlaneNodeSet':
      return readyConditionExprs(obj.apiVersion, obj.kind);
    default:
      return undefined;
  }
}

function scriptFor(sample: Sample): string {
  const script = customizations[groupKind(sample.object)];
  if (script === undefined) throw new Error(`${sample.name}: no Argo CD health script for ${groupKind(sample.object)}`);
  return script;
}

// ---- cases for the Go helper, keyed so each test can find its verdict ----

const oracleCases: OracleCase[] = [];
const oracleIndex = new Map<string, number>();
function addCase(key: string, c: OracleCase): void {
  oracleIndex.set(key, oracleCases.length);
  oracleCases.push(c);
}

for (const s of samples) {
  const exprs = fluxExprsFor(s);
  if (exprs !== undefined) addCase(`${s.name}/cel`, { engine: 'cel', exprs, object: s.object });
  addCase(`${s.name}/lua`, { engine: 'lua', script: scriptFor(s), object: s.object });
}

function sample(name: string): Sample {
  const s = samples.find((x) => x.name === name);
  if (s === undefined) throw new Error(`no sample ${name}`);
  return s;
}

// The cheat-sheet form that is true when the condition is missing (conventions d7).
const TRAP_EXPRS: FluxHealthCheckExpr = {
  apiVersion: 'core.openstack.org/v1beta1',
  kind: 'OpenStackVersion',
  current: "status.conditions.filter(e, e.type == 'MinorUpdateOVNControlplane').all(e, e.status == 'True')",
};
addCase('trap/filter-all', { engine: 'cel', exprs: TRAP_EXPRS, object: sample('osv-gate-missing').object });

const HAS_STATUS_EXPRS: FluxHealthCheckExpr = {
  apiVersion: 'core.openstack.org/v1beta1',
  kind: 'OpenStackVersion',
  current: "has(status) && status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')",
};
addCase('trap/has-status', { engine: 'cel', exprs: HAS_STATUS_EXPRS, object: sample('osv-no-status').object });

// A missing top-level status is absorbed when another term is false (an older target).
const OLD_TARGET_NO_STATUS = {
  ...sample('osv-no-status').object,
  spec: { targetVersion: '0.7.0' },
};
addCase('absorb/old-target-no-status', {
  engine: 'cel',
  exprs: openStackVersionGateExprs({ conditionType: 'MinorUpdateOVNControlplane', targetVersion: '0.7.1' }),
  object: OLD_TARGET_NO_STATUS,
});

// Flux's built-in generation check only applies to integers; a string observedGeneration is skipped.
const STRING_GENERATION = {
  apiVersion: 'core.openstack.org/v1beta1',
  kind: 'OpenStackVersion',
  metadata: { name: 'x', generation: 3 },
  status: { observedGeneration: '2' },
};
const ALWAYS_CURRENT: FluxHealthCheckExpr = { apiVersion: 'core.openstack.org/v1beta1', current: 'true' };
addCase('builtin/string-generation', { engine: 'cel', exprs: ALWAYS_CURRENT, object: STRING_GENERATION });
addCase('builtin/stale-int-generation', {
  engine: 'cel',
  exprs: ALWAYS_CURRENT,
  object: { ...STRING_GENERATION, status: { observedGeneration: 2 } },
});

// A version that needs escaping inside a CEL string literal.
const ODD_VERSION = `0.7.1'-"\\x`;
const ODD_VERSION_EXPRS = openStackVersionGateExprs({ conditionType: 'MinorUpdateDataplane', targetVersion: ODD_VERSION });
const ODD_VERSION_OBJECT = {
  apiVersion: 'core.openstack.org/v1beta1',
  kind: 'OpenStackVersion',
  metadata: { name: 'openstack', generation: 5 },
  spec: { targetVersion: ODD_VERSION },
  status: {
    observedGeneration: 5,
    conditions: [{ type: 'MinorUpdateDataplane', status: 'True', reason: 'Ready', message: 'completed' }],
  },
};
addCase('escape/odd-version', { engine: 'cel', exprs: ODD_VERSION_EXPRS, object: ODD_VERSION_OBJECT });

// Lua behaviours of Argo CD's runner that the JS mirror must share.
const LUA_OBJ = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', generation: 4 } };
const LUA_EDGE_CASES: Record<string, { script: string; expect: ArgoHealth; compareMessage: boolean }> = {
  'integer-concat': {
    script: 'return { status = "Healthy", message = "generation " .. obj.metadata.generation }',
    expect: { status: 'Healthy', message: 'generation 4' },
    compareMessage: true,
  },
  'empty-table': { script: 'return {}', expect: { status: '', message: '' }, compareMessage: true },
  'nil-return': { script: 'local x = 1', expect: { status: '', message: '' }, compareMessage: true },
  'invalid-status': {
    script: 'return { status = "Fine" }',
    expect: { status: 'Unknown', message: 'Lua returned an invalid health status' },
    compareMessage: true,
  },
  'wrong-type': { script: 'return { status = 1 }', expect: { status: '', message: '' }, compareMessage: true },
  'capitalised-key': {
    script: 'return { Status = "Healthy", message = "ok" }',
    expect: { status: 'Healthy', message: 'ok' },
    compareMessage: true,
  },
  'no-string-library': {
    script: 'return { status = "Healthy", message = string.format("%d", 1) }',
    expect: { status: 'Unknown', message: '' },
    compareMessage: false,
  },
  'floor-division': {
    script: 'local x = 7 // 2 return { status = "Healthy" }',
    expect: { status: 'Unknown', message: '' },
    compareMessage: false,
  },
  deadline: { script: 'while true do end', expect: { status: 'Unknown', message: '' }, compareMessage: false },
  'not-a-table': { script: 'return "Healthy"', expect: { status: 'Unknown', message: '' }, compareMessage: false },
  'os-only-through-require': {
    script:
      'return { status = "Healthy", message = tostring(os == nil) .. " " .. tostring(table.time == nil) .. " " ..\n' +
      '  tostring(type(require("os").time) == "function") }',
    expect: { status: 'Healthy', message: 'true true true' },
    compareMessage: true,
  },
};
for (const [name, c] of Object.entries(LUA_EDGE_CASES)) {
  addCase(`lua-edge/${name}`, { engine: 'lua', script: c.script, object: LUA_OBJ });
}
const DELETING = {
  ...sample('ctlplane-ready-true').object,
  metadata: { name: 'openstack', generation: 7, deletionTimestamp: '2026-11-24T13:00:00Z', finalizers: ['x'] },
};
addCase('lua-edge/deleting', { engine: 'lua', script: READY_CONDITION_HEALTH_LUA, object: DELETING });

// ---- the Go helper runs once for all cases ----

let oracle: OracleVerdict[] = [];
beforeAll(() => {
  buildOracle();
  oracle = runOracle(oracleCases);
}, 900_000);

function go(key: string): OracleVerdict {
  const i = oracleIndex.get(key);
  const v = i === undefined ? undefined : oracle[i];
  if (v === undefined) throw new Error(`no Go verdict for ${key}`);
  return v;
}

function argoWithoutError(h: ArgoHealth): { status: string; message: string } {
  return { status: h.status, message: h.message };
}

// ---------------------------------------------------------------------------------------------

describe('samples: expected verdicts', () => {
  it('cover every kind osv-gitops gates on', () => {
    const kinds = new Set(samples.map((s) => s.object.kind));
    expect([...kinds].sort()).toEqual([
      'Application',
      'OpenStackControlPlane',
      'OpenStackDataPlaneDeployment',
      'OpenStackDataPlaneNodeSet',
      'OpenStackVersion',
    ]);
    for (const s of samples) {
      if (fluxExprsFor(s) !== undefined) expect(s.expect.flux, `${s.name}: expect.flux`).toBeDefined();
    }
  });

  it('keep the OpenStackVersion annotation and the CEL gate in step', () => {
    for (const s of samples.filter((x) => x.object.kind === 'OpenStackVersion')) {
      const annotations = (s.object['metadata'] as { annotations?: Record<string, string> }).annotations ?? {};
      expect(annotations[HEALTH_GATE_ANNOTATION] ?? 'Ready', s.name).toBe(s.gate?.conditionType);
    }
  });
});

describe.each(samples)('$name', (s) => {
  const exprs = fluxExprsFor(s);

  if (exprs !== undefined) {
    it('Flux: JS evaluator gives the expected verdict', () => {
      expect(readFluxStatus(exprs, s.object).status).toBe(s.expect.flux);
    });

    it("Flux: Flux's own Go code gives the same verdict", () => {
      const v = go(`${s.name}/cel`);
      expect(v.status, v.error).toBe(s.expect.flux);
      expect(v.status).toBe(readFluxStatus(exprs, s.object).status);
    });
  }

  it('Argo CD: JS evaluator (fengari) gives the expected verdict', () => {
    expect(argoWithoutError(evaluateArgoHealth(scriptFor(s), s.object))).toEqual(s.expect.argo);
  });

  it('Argo CD: gopher-lua set up as Argo CD gives the same verdict', () => {
    const v = go(`${s.name}/lua`);
    expect(v.error, v.error).toBeUndefined();
    expect({ status: v.status, message: v.message ?? '' }).toEqual(s.expect.argo);
  });
});

describe('the filter().all() trap and other CEL pitfalls, in both evaluators', () => {
  it('filter().all() passes on a missing condition in Flux, our exists() form does not', () => {
    const missing = sample('osv-gate-missing');
    expect(go('trap/filter-all').status).toBe('Current');
    expect(evaluateFluxHealth(TRAP_EXPRS, missing.object)).toBe('Current');
    expect(evaluateFluxHealth(openStackVersionGateExprs(missing.gate!), missing.object)).toBe('InProgress');
    expect(go(`${missing.name}/cel`).status).toBe('InProgress');
  });

  it('has(status) does not parse in Flux; the JS evaluator refuses it too', () => {
    expect(go('trap/has-status').status).toBe('Invalid');
    expect(go('trap/has-status').error).toContain('invalid argument to has() macro');
    expect(() => evaluateFluxHealth(HAS_STATUS_EXPRS, sample('osv-no-status').object)).toThrow(HealthEvaluationError);
  });

  it('a missing top-level status is an error in Flux (Unknown), absorbed when another term is false', () => {
    const noStatus = sample('osv-no-status');
    expect(go(`${noStatus.name}/cel`).error).toContain('no such attribute');
    expect(() => evaluateFluxHealth(openStackVersionGateExprs(noStatus.gate!), noStatus.object)).toThrow(/no such attribute/);
    expect(go('absorb/old-target-no-status').status).toBe('InProgress');
    expect(
      readFluxStatus(
        openStackVersionGateExprs({ conditionType: 'MinorUpdateOVNControlplane', targetVersion: '0.7.1' }),
        OLD_TARGET_NO_STATUS,
      ).status,
    ).toBe('InProgress');
  });

  it("Flux's built-in observedGeneration check applies to integers only", () => {
    expect(go('builtin/string-generation').status).toBe('Current');
    expect(evaluateFluxHealth(ALWAYS_CURRENT, STRING_GENERATION)).toBe('Current');
    expect(go('builtin/stale-int-generation').status).toBe('InProgress');
    expect(evaluateFluxHealth(ALWAYS_CURRENT, { ...STRING_GENERATION, status: { observedGeneration: 2 } })).toBe(
      'InProgress',
    );
  });

  it('quotes versions safely inside CEL', () => {
    expect(celString(`a'b"c\\d\n`)).toBe(`'a\\'b\\"c\\\\d\\n'`);
    expect(go('escape/odd-version').status).toBe('Current');
    expect(evaluateFluxHealth(ODD_VERSION_EXPRS, ODD_VERSION_OBJECT)).toBe('Current');
  });

  it('an entry for another kind does not apply', () => {
    expect(() => evaluateFluxHealth(dataPlaneDeploymentExprs(), sample('osv-gate-true').object)).toThrow(/not supported/);
  });
});

describe('expression shape', () => {
  const all = [
    openStackVersionGateExprs({ conditionType: 'MinorUpdateOVNControlplane', targetVersion: '0.7.1' }),
    openStackVersionGateExprs({ conditionType: 'Ready', targetVersion: '0.7.1' }),
    dataPlaneDeploymentExprs(),
    readyConditionExprs('core.openstack.org/v1beta1', 'OpenStackControlPlane'),
  ];

  it('never uses filter() or has() on a top-level field, and has no inProgress expression', () => {
    for (const e of all) {
      for (const text of [e.current, e.failed ?? '']) {
        expect(text).not.toMatch(/\.filter\(/);
        expect(text).not.toMatch(/has\((status|spec|metadata)\)/);
      }
      expect(e.inProgress).toBeUndefined();
    }
  });

  it('requires deployedVersion by default only for the Ready gate', () => {
    expect(all[0]?.current).not.toContain('deployedVersion');
    expect(all[1]?.current).toContain("status.deployedVersion == '0.7.1'");
    expect(
      openStackVersionGateExprs({
        conditionType: 'MinorUpdateDataplane',
        targetVersion: '0.7.1',
        requireDeployedVersion: true,
      }).current,
    ).toContain('deployedVersion');
  });
});

describe('Argo CD scripts', () => {
  it('are in the Lua 5.1 subset', () => {
    for (const check of ARGO_HEALTH_CHECKS) {
      expect(luaSyntaxBeyond51(check.script), `${check.group}_${check.kind}`).toEqual({ gopherRejects: [], other: [] });
    }
    expect(luaSyntaxBeyond51('local a = 7 // 2 -- x // y\nlocal s = "a // b"\ngoto done').gopherRejects).toEqual([
      'line 1: //',
    ]);
    expect(luaSyntaxBeyond51('goto done\n::done::').other).toEqual(['line 1: goto', 'line 2: ::label::']);
  });

  it('are keyed by <group>_<kind> and as argocd-cm keys', () => {
    expect(Object.keys(customizations).sort()).toEqual([
      'argoproj.io_Application',
      'core.openstack.org_OpenStackControlPlane',
      'core.openstack.org_OpenStackVersion',
      'dataplane.openstack.org_OpenStackDataPlaneDeployment',
      'dataplane.openstack.org_OpenStackDataPlaneNodeSet',
    ]);
    expect(customizations['core.openstack.org_OpenStackVersion']).toBe(OPENSTACK_VERSION_HEALTH_LUA);
    expect(customizations['dataplane.openstack.org_OpenStackDataPlaneDeployment']).toBe(DATAPLANE_DEPLOYMENT_HEALTH_LUA);
    expect(customizations['argoproj.io_Application']).toBe(APPLICATION_HEALTH_LUA);
    expect(Object.keys(argoHealthCustomizations({ configMapKeys: true }))).toContain(
      'resource.customizations.health.core.openstack.org_OpenStackVersion',
    );
    expect(argoResourceHealthChecks()).toContainEqual({
      group: 'dataplane.openstack.org',
      kind: 'OpenStackDataPlaneNodeSet',
      check: READY_CONDITION_HEALTH_LUA,
    });
  });

  it('never report Degraded for Ready=False on the control plane or a node set', () => {
    const readyFalse = samples.filter((s) => /^(ctlplane|nodeset)-ready-false/.test(s.name));
    expect(readyFalse.length).toBeGreaterThanOrEqual(3);
    for (const s of readyFalse) expect(evaluateArgoHealth(READY_CONDITION_HEALTH_LUA, s.object).status).toBe('Progressing');
  });
});

describe("Argo CD runner behaviours shared by fengari and gopher-lua", () => {
  it.each(Object.entries(LUA_EDGE_CASES))('%s', (name, c) => {
    const js = evaluateArgoHealth(c.script, LUA_OBJ);
    const v = go(`lua-edge/${name}`);
    expect(js.status).toBe(c.expect.status);
    expect(v.status).toBe(c.expect.status);
    if (c.compareMessage) {
      expect(js.message).toBe(c.expect.message);
      expect(v.message ?? '').toBe(c.expect.message);
    } else {
      expect(js.error).toBeDefined();
      expect(v.error).toBeDefined();
    }
  });

  it('an object being deleted is Progressing "Pending deletion" before any script runs', () => {
    expect(evaluateArgoHealth(READY_CONDITION_HEALTH_LUA, DELETING)).toEqual({
      status: 'Progressing',
      message: 'Pending deletion',
    });
    expect(go('lua-edge/deleting')).toEqual({ status: 'Progressing', message: 'Pending deletion' });
  });
});
