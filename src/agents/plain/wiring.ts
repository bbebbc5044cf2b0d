/** Plain kustomize folders: nothing of an agent's own, the user points whatever applies them at the folders. */
import type { AgentWiring } from '../types.js';

export const plainWiring: AgentWiring = {
  validate() {},
  phaseExtras: () => ({}),
  oneFolderPerObject: false,
  render: () => [],
};
