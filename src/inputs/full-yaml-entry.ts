/** The CLI bundle's entry of `yaml` for full-yaml.ts (scripts/build.mjs): its chunk is shared. */
import * as yaml from 'yaml';

export default yaml;
