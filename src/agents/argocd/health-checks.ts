/**
 * Argo CD health checks (conventions d2) as Lua source.
 *
 * Argo CD runs these in gopher-lua (Lua 5.1) with only the `package`, `base` and `table`
 * libraries (argo-cd `util/lua/lua.go`): no `string`, no `math`, no `os` global. So the scripts
 * use `..` and `tostring` only, and stay in the Lua 5.1 subset (no `//`, no `goto`, no bitwise
 * operators). The object is the global `obj`; the script returns `{ status, message }` with a
 * status among Healthy, Progressing, Degraded and Suspended.
 *
 * Every message says what the object is waiting for, so an operator reading the Argo CD UI knows
 * which step of the update is pending.
 */
import { DEFAULT_HEALTH_GATE, HEALTH_GATE_ANNOTATION, TARGET_VERSION_ANNOTATION } from '../../health/annotations.js';

/** Argo CD's `argocd-cm` key prefix for a health customization. */
export const ARGO_HEALTH_KEY_PREFIX = 'resource.customizations.health.';

/** Shared helpers, inlined at the top of each script (a script cannot `require` our code). */
const HELPERS = `local function show(v)
  if v == nil then
    return "none"
  end
  return tostring(v)
end

local function findCondition(status, conditionType)
  if status == nil or status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end
`;

/**
 * `OpenStackVersion`: waits for the condition named by the health-gate annotation (default
 * `Ready`), for this update's target version, on a fresh generation. Degraded only when that
 * condition is False with reason `Error`.
 */
export const OPENSTACK_VERSION_HEALTH_LUA = `-- osv-gitops: OpenStackVersion gate
${HELPERS}
local hs = { status = "Progressing" }
local meta = obj.metadata or {}
local annotations = meta.annotations or {}
local spec = obj.spec or {}

local gate = annotations["${HEALTH_GATE_ANNOTATION}"]
if gate == nil or gate == "" then
  gate = "${DEFAULT_HEALTH_GATE}"
end
local target = annotations["${TARGET_VERSION_ANNOTATION}"]
if target == "" then
  target = nil
end

if target ~= nil and spec.targetVersion ~= target then
  hs.message = "Waiting for targetVersion " .. target .. " (live: " .. show(spec.targetVersion) .. ")"
  return hs
end

local status = obj.status
if status == nil then
  hs.message = "Waiting for the operator to report status"
  return hs
end
if status.observedGeneration == nil or status.observedGeneration ~= meta.generation then
  hs.message = "Waiting for the operator to observe generation " .. show(meta.generation)
  return hs
end

local c = findCondition(status, gate)
if c == nil then
  hs.message = "Waiting for " .. gate .. ": condition not reported yet"
  return hs
end

if c.status == "True" then
  if gate == "${DEFAULT_HEALTH_GATE}" then
    local want = target
    if want == nil then
      want = spec.targetVersion
    end
    if status.deployedVersion ~= want then
      hs.message = "Waiting for deployedVersion " .. show(want) .. " (live: " .. show(status.deployedVersion) .. ")"
      return hs
    end
  end
  hs.status = "Healthy"
  hs.message = gate .. ": " .. show(c.message or "True")
  return hs
end

if c.status == "False" and c.reason == "Error" then
  hs.status = "Degraded"
  hs.message = gate .. " failed: " .. show(c.message or "Error")
  return hs
end

if c.message ~= nil then
  hs.message = "Waiting for " .. gate .. ": " .. show(c.message)
else
  hs.message = "Waiting for " .. gate .. ": " .. show(c.status) .. "/" .. show(c.reason)
end
return hs
`;

/**
 * `OpenStackControlPlane` and `OpenStackDataPlaneNodeSet`: Healthy when `Ready` is True on a
 * fresh generation. lib-common reports work in progress as `Ready=False`, so False is always
 * Progressing, never Degraded (a Degraded resource would fail the whole Argo CD sync).
 */
export const READY_CONDITION_HEALTH_LUA = `-- osv-gitops: Ready condition (transient Ready=False is Progressing)
${HELPERS}
local hs = { status = "Progressing" }
local meta = obj.metadata or {}
local status = obj.status
if status == nil then
  hs.message = "Waiting for the controller to report status"
  return hs
end
if status.observedGeneration == nil or status.observedGeneration ~= meta.generation then
  hs.message = "Waiting for the controller to observe generation " .. show(meta.generation)
  return hs
end

local c = findCondition(status, "Ready")
if c == nil then
  hs.message = "Waiting for Ready: condition not reported yet"
  return hs
end
if c.status == "True" then
  hs.status = "Healthy"
  hs.message = "Ready: " .. show(c.message or "True")
  return hs
end
if c.message ~= nil then
  hs.message = "Waiting for Ready: " .. show(c.message)
else
  hs.message = "Waiting for Ready: " .. show(c.status) .. "/" .. show(c.reason)
end
return hs
`;

/**
 * `OpenStackDataPlaneDeployment`: Healthy once `status.deployed` is true and `Ready` is True on a
 * fresh generation; Degraded on the terminal failure (`DeploymentReady` or `Ready` False with
 * severity `Error`, e.g. reason `BackoffLimitExceeded`); Progressing otherwise. The check order
 * matches the Flux expressions: a stale generation first, then the failure, then success.
 */
export const DATAPLANE_DEPLOYMENT_HEALTH_LUA = `-- osv-gitops: OpenStackDataPlaneDeployment
${HELPERS}
local hs = { status = "Progressing" }
local meta = obj.metadata or {}
local status = obj.status
if status == nil then
  hs.message = "Waiting for the deployment to start"
  return hs
end
if status.observedGeneration ~= nil and status.observedGeneration ~= meta.generation then
  hs.message = "Waiting for the operator to observe generation " .. show(meta.generation)
  return hs
end

local deploymentReady = findCondition(status, "DeploymentReady")
local ready = findCondition(status, "Ready")
local function terminal(c)
  return c ~= nil and c.status == "False" and c.severity == "Error"
end
local failed = nil
if terminal(deploymentReady) then
  failed = deploymentReady
elseif terminal(ready) then
  failed = ready
end
if failed ~= nil then
  hs.status = "Degraded"
  hs.message = failed.type .. " failed (" .. show(failed.reason) .. "): " .. show(failed.message)
  return hs
end

if status.observedGeneration ~= nil and status.deployed == true and ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = "Deployed"
  if status.deployedVersion ~= nil and status.deployedVersion ~= "" then
    hs.message = "Deployed version " .. show(status.deployedVersion)
  end
  return hs
end

local current = deploymentReady or ready
if current ~= nil and current.message ~= nil then
  hs.message = "Waiting for the deployment: " .. show(current.message)
else
  hs.message = "Waiting for the deployment to finish"
end
return hs
`;

/**
 * `argoproj.io/Application` for app-of-apps. Argo CD dropped its built-in Application check in
 * 1.8; this one maps `status.health.status`, but reports Progressing while a sync is requested or
 * running, while the child is not Synced, while the last comparison used an older source, and
 * while the health predates the end of the last sync (then it is not trustworthy yet, conventions
 * d3). A sync that ended Failed or Error with the child still out of sync is Degraded.
 */
export const APPLICATION_HEALTH_LUA = `-- osv-gitops: Argo CD Application (app-of-apps)
${HELPERS}
local hs = { status = "Progressing" }
if obj.operation ~= nil then
  hs.message = "Waiting for the requested sync operation"
  return hs
end
local status = obj.status
if status == nil then
  hs.message = "Waiting for the application controller to report status"
  return hs
end

local op = status.operationState
if op ~= nil and (op.phase == "Running" or op.phase == "Terminating") then
  hs.message = "Waiting for the sync operation (" .. op.phase .. ")"
  if op.message ~= nil then
    hs.message = hs.message .. ": " .. show(op.message)
  end
  return hs
end

local sync = status.sync or {}
if op ~= nil and (op.phase == "Failed" or op.phase == "Error") and sync.status ~= "Synced" then
  hs.status = "Degraded"
  hs.message = "Last sync " .. op.phase .. ": " .. show(op.message)
  return hs
end
if sync.status ~= "Synced" then
  hs.message = "Waiting for sync (sync status: " .. show(sync.status) .. ")"
  return hs
end

local spec = obj.spec or {}
local compared = sync.comparedTo or {}
if spec.source ~= nil and compared.source ~= nil then
  for _, field in ipairs({ "repoURL", "path", "targetRevision", "chart" }) do
    if spec.source[field] ~= compared.source[field] then
      hs.message = "Waiting for a comparison against the current source (" .. field .. ")"
      return hs
    end
  end
end

if op ~= nil and op.finishedAt ~= nil and (status.reconciledAt == nil or status.reconciledAt < op.finishedAt) then
  hs.message = "Waiting for health to be assessed after the sync that finished at " .. show(op.finishedAt)
  return hs
end

local health = status.health
if health == nil or health.status == nil then
  hs.message = "Waiting for health"
  return hs
end
local h = health.status
if h == "Healthy" or h == "Degraded" or h == "Suspended" or h == "Progressing" then
  hs.status = h
  if health.message ~= nil then
    hs.message = show(health.message)
  else
    hs.message = "Application is " .. h
  end
  return hs
end
hs.message = "Waiting for health (application health: " .. show(h) .. ")"
return hs
`;

export interface ArgoHealthKind {
  readonly group: string;
  readonly kind: string;
  readonly script: string;
}

/** Every health check osv-gitops needs, one per group and kind. */
export const ARGO_HEALTH_CHECKS: readonly ArgoHealthKind[] = [
  { group: 'core.openstack.org', kind: 'OpenStackVersion', script: OPENSTACK_VERSION_HEALTH_LUA },
  { group: 'core.openstack.org', kind: 'OpenStackControlPlane', script: READY_CONDITION_HEALTH_LUA },
  { group: 'dataplane.openstack.org', kind: 'OpenStackDataPlaneNodeSet', script: READY_CONDITION_HEALTH_LUA },
  { group: 'dataplane.openstack.org', kind: 'OpenStackDataPlaneDeployment', script: DATAPLANE_DEPLOYMENT_HEALTH_LUA },
  { group: 'argoproj.io', kind: 'Application', script: APPLICATION_HEALTH_LUA },
];

export interface ArgoHealthCustomizationsOptions {
  /**
   * Prefix each key with `resource.customizations.health.`, giving the `argocd-cm` data keys.
   * @default false (keys are `<group>_<kind>`)
   */
  readonly configMapKeys?: boolean;
}

/** `<group>_<kind>` (or the full `argocd-cm` key) → Lua script. */
export function argoHealthCustomizations(options: ArgoHealthCustomizationsOptions = {}): Record<string, string> {
  const prefix = options.configMapKeys === true ? ARGO_HEALTH_KEY_PREFIX : '';
  const out: Record<string, string> = {};
  for (const check of ARGO_HEALTH_CHECKS) {
    out[`${prefix}${check.group}_${check.kind}`] = check.script;
  }
  return out;
}

/**
 * The same checks in the argocd-operator / OpenShift GitOps form
 * (`spec.resourceHealthChecks[]` with `group`, `kind`, `check`).
 */
export function argoResourceHealthChecks(): { group: string; kind: string; check: string }[] {
  return ARGO_HEALTH_CHECKS.map((c) => ({ group: c.group, kind: c.kind, check: c.script }));
}
