import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { versionSlug } from '../../plan/names.js';
import { phaseNumberText } from '../../plan/numbering.js';
import type { OperatorPhaseInput } from '../types.js';
import { addScriptJob } from './script-job.js';

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

/**
 * The props both agents render phase 0 with: the Job's name is fixed per version and phase
 * (`osv-approve-<version>-00`), so the rehearsal, status and a re-render find the same Job.
 */
export function approvalJobProps({ plan, phase, deadlineSeconds }: OperatorPhaseInput, image: string): ApprovalJobChartProps {
  const op = plan.operatorUpgrade;
  if (!op) throw new Error('the plan has no phase 0 operator');
  return {
    operatorNamespace: op.operatorNamespace,
    namespace: plan.namespace,
    name: `osv-approve-${versionSlug(plan.versions.target)}-${phaseNumberText(phase)}`.slice(0, 63).replace(/-+$/, ''),
    csv: op.csv,
    openStackVersion: plan.openStackVersion,
    targetVersion: plan.versions.target,
    deadlineSeconds,
    image,
  };
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
    const account = 'osv-gitops-olm-approve';
    const olmNs = props.operatorNamespace;
    addScriptJob(this, {
      namespace: olmNs,
      account,
      roles: [
        {
          name: account,
          namespace: olmNs,
          rules: [
            { apiGroup: 'operators.coreos.com', resources: ['installplans'], verbs: ['get', 'list', 'watch', 'patch'] },
            { apiGroup: 'operators.coreos.com', resources: ['clusterserviceversions'], verbs: ['get'] },
          ],
        },
        { name: `${account}-reader`, namespace: props.namespace, rules: [{ apiGroup: 'core.openstack.org', resources: ['openstackversions'], verbs: ['get', 'list', 'watch'] }] },
      ],
      name: props.name,
      containerName: 'approve',
      image: props.image,
      script: APPROVAL_SCRIPT,
      // the rehearsal's Job runner recognises the Job by these names (APPROVAL_ENV_NAMES)
      env: [
        ['OLM_NS', olmNs],
        ['CSV', props.csv],
        ['OSV', props.openStackVersion],
        ['NS', props.namespace],
        ['TARGET', props.targetVersion],
        ['DEADLINE', String(props.deadlineSeconds)],
      ],
      activeDeadlineSeconds: props.deadlineSeconds + 60,
      ...(props.runAsUser !== undefined ? { runAsUser: props.runAsUser } : {}),
    });
  }
}
