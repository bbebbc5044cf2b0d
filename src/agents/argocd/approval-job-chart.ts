import { ApiObject, Chart, Duration, JsonPatch } from 'cdk8s';
import type { Construct } from 'constructs';
import { kplus, restrictedContainer } from './gate-job-chart.js';

export interface ApprovalJobChartProps {
  /** Where OLM runs the openstack-operator: the Job, its InstallPlans and CSVs. */
  readonly operatorNamespace: string;
  /** Where the OpenStackVersion lives. */
  readonly namespace: string;
  /** Job name: unique per version (Jobs are immutable). */
  readonly name: string;
  /** The one CSV whose InstallPlan may be approved. */
  readonly csv: string;
  readonly openStackVersion: string;
  /** `status.availableVersion` the OpenStackVersion must announce once the CSV runs. */
  readonly targetVersion: string;
  readonly deadlineSeconds: number;
  /** An image with `sh` and `kubectl` (or `oc`). */
  readonly image: string;
  /** Fixed UID of the container; undefined leaves it to the platform (restricted-v2). */
  readonly runAsUser?: number;
}

/** The approval Job's environment; the rehearsal's Job runner recognises the Job by these names. */
export const APPROVAL_ENV_NAMES = ['OLM_NS', 'CSV', 'OSV', 'NS', 'TARGET', 'DEADLINE'] as const;

// Finds the newest InstallPlan that names $CSV; refuses one that would install any other CSV;
// approves it with a JSON patch that first tests what was read (resourceVersion, CSV list, not
// approved), so a plan OLM changed in between is re-read instead of approved unseen; then waits for
// the CSV to succeed and the OpenStackVersion to announce the target (the rules of src/olm/gate.ts).
const APPROVAL_SCRIPT = `set -uf
end=$(( $(date +%s) + DEADLINE ))
cli=kubectl; command -v kubectl >/dev/null 2>&1 || cli=oc
ip=installplans.operators.coreos.com
approved=""
while :; do
  if [ -z "$approved" ]; then
    plans=$($cli get "$ip" -n "$OLM_NS" -o jsonpath='{range .items[*]}{.metadata.creationTimestamp}{"|"}{.metadata.name}{"|"}{.spec.approved}{"|"}{.metadata.resourceVersion}{"| "}{range .spec.clusterServiceVersionNames[*]}{@}{" "}{end}{"\\n"}{end}' 2>/dev/null) || plans=""
    line=$(printf '%s\\n' "$plans" | grep -F " $CSV " | sort -r | head -n 1)
    if [ -z "$line" ]; then
      echo "waiting: no InstallPlan in $OLM_NS installs $CSV yet"
    else
      IFS='|'; set -- $line; unset IFS
      name=$2; others=""; list=""
      for c in $5; do
        [ "$c" = "$CSV" ] || others="$others $c"
        list="$list\${list:+,}\\"$c\\""
      done
      if [ "$3" = true ]; then
        approved=$name; echo "InstallPlan $name is approved"
      elif [ -n "$others" ]; then
        echo "refused: InstallPlan $name would also install$others; approve only a plan that installs exactly $CSV"; exit 1
      else
        patch="[{\\"op\\":\\"test\\",\\"path\\":\\"/metadata/resourceVersion\\",\\"value\\":\\"$4\\"},{\\"op\\":\\"test\\",\\"path\\":\\"/spec/clusterServiceVersionNames\\",\\"value\\":[$list]},{\\"op\\":\\"test\\",\\"path\\":\\"/spec/approved\\",\\"value\\":false},{\\"op\\":\\"replace\\",\\"path\\":\\"/spec/approved\\",\\"value\\":true}]"
        if $cli patch "$ip" "$name" -n "$OLM_NS" --type=json -p "$patch"; then
          approved=$name; echo "approved InstallPlan $name for $CSV"
        else
          echo "InstallPlan $name changed while it was approved: reading it again"
        fi
      fi
    fi
  fi
  if [ -n "$approved" ]; then
    phase=$($cli get clusterserviceversions.operators.coreos.com "$CSV" -n "$OLM_NS" -o jsonpath='{.status.phase}' 2>/dev/null) || phase=""
    avail=$($cli get openstackversions.core.openstack.org "$OSV" -n "$NS" -o jsonpath='{.status.availableVersion}' 2>/dev/null) || avail=""
    [ "$phase" = Failed ] && { echo "CSV $CSV failed"; exit 1; }
    if [ "$phase" = Succeeded ] && [ "$avail" = "$TARGET" ]; then echo "operator upgraded: $CSV Succeeded, availableVersion $TARGET"; exit 0; fi
    echo "waiting: CSV $CSV phase=\${phase:-missing} availableVersion=\${avail:-unset}"
  fi
  [ "$(date +%s)" -ge "$end" ] && { echo "approval deadline passed"; exit 1; }
  sleep 10
done`;

/**
 * Phase 0 in directories mode: a Job that approves the InstallPlan of exactly the target CSV and
 * ends once OLM installed it and the operator announces the target, so the next sync wave waits on
 * the operator upgrade. Least privilege: in the operator namespace it may read and patch
 * InstallPlans and read CSVs; in the OpenStack namespace only read OpenStackVersions.
 */
export class ApprovalJobChart extends Chart {
  constructor(scope: Construct, id: string, props: ApprovalJobChartProps) {
    super(scope, id, { namespace: props.operatorNamespace, disableResourceNameHashes: true });
    const k = kplus();
    const account = 'osv-gitops-olm-approve';
    const olm = (resourceType: string) => k.ApiResource.custom({ apiGroup: 'operators.coreos.com', resourceType });
    const sa = new k.ServiceAccount(this, 'sa', { metadata: { name: account, namespace: props.operatorNamespace }, automountToken: false });
    const role = new k.Role(this, 'role', { metadata: { name: account, namespace: props.operatorNamespace } });
    role.allow(['get', 'list', 'watch', 'patch'], olm('installplans'));
    role.allow(['get'], olm('clusterserviceversions'));
    new k.RoleBinding(this, 'binding', { metadata: { name: account, namespace: props.operatorNamespace }, role }).addSubjects(sa);
    const reader = new k.Role(this, 'osv-role', { metadata: { name: `${account}-reader`, namespace: props.namespace } });
    reader.allow(['get', 'list', 'watch'], k.ApiResource.custom({ apiGroup: 'core.openstack.org', resourceType: 'openstackversions' }));
    new k.RoleBinding(this, 'osv-binding', { metadata: { name: `${account}-reader`, namespace: props.namespace }, role: reader }).addSubjects(sa);
    const job = new k.Job(this, 'job', {
      metadata: { name: props.name, namespace: props.operatorNamespace, annotations: { 'argocd.argoproj.io/sync-options': 'Replace=false' } },
      serviceAccount: sa,
      automountServiceAccountToken: true,
      backoffLimit: 0,
      activeDeadline: Duration.seconds(props.deadlineSeconds + 60),
      containers: [
        {
          name: 'approve',
          image: props.image,
          imagePullPolicy: k.ImagePullPolicy.IF_NOT_PRESENT,
          command: ['/bin/sh', '-c', APPROVAL_SCRIPT],
          envVariables: {
            OLM_NS: k.EnvValue.fromValue(props.operatorNamespace),
            CSV: k.EnvValue.fromValue(props.csv),
            OSV: k.EnvValue.fromValue(props.openStackVersion),
            NS: k.EnvValue.fromValue(props.namespace),
            TARGET: k.EnvValue.fromValue(props.targetVersion),
            DEADLINE: k.EnvValue.fromValue(String(props.deadlineSeconds)),
          },
          ...restrictedContainer(props.runAsUser),
        },
      ],
    });
    // as for the gate Job: no construct-path label, no empty template metadata
    ApiObject.of(job).addJsonPatch(JsonPatch.remove('/spec/template/metadata'));
  }
}
