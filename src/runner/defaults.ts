/** The runner's defaults, in a module of their own: `render-runner --help` shows them without loading the manifests. */
export const RUNNER_DEFAULTS = {
  name: 'osv-gitops-runner',
  branch: 'main',
  schedule: '*/5 * * * *',
  csvNamespace: 'openstack-operators',
} as const;
