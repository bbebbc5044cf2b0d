/**
 * Plain kustomize folders: whatever applies them (`oc apply -k`, a pipeline) leaves no object to
 * read back, so the gates rest on the cluster's own state; nothing to rehearse.
 */
import type { Agent } from '../types.js';

export const plain: Agent = {
  engine: 'plain',
  title: 'plain kustomize',
  keepOnRemoval: {},
  status: undefined,
  rehearsal: undefined,
};
