// The bundled example as a must-gather, the way `status --from-files` reads it: the
// OpenStackVersion, the control plane and one `nodeset-*.yaml` per nodeset. Shared by the build's
// code-cache warm-up, the benchmarks and the start-up tests.
import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Copies the example in `exampleDir` into the existing folder `dumpDir` as a must-gather. */
export function copyExampleDump(exampleDir, dumpDir) {
  for (const f of ['openstackversion.yaml', 'controlplane.yaml']) copyFileSync(join(exampleDir, f), join(dumpDir, f));
  for (const f of readdirSync(join(exampleDir, 'nodesets'))) {
    copyFileSync(join(exampleDir, 'nodesets', f), join(dumpDir, `nodeset-${f}`));
  }
}
