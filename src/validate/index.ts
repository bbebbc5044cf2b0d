/** Validation of rendered objects: CRD schemas, names, secrets. */
export { CrdSchemaValidator, knownKinds, validateObject, validateObjects } from './crd-schema.js';
export type { KnownKind, ValidationResult } from './crd-schema.js';
export {
  RFC1123_LABEL_MAX,
  RFC1123_SUBDOMAIN_MAX,
  assertRfc1123Name,
  isRfc1123Label,
  isRfc1123Subdomain,
  rfc1123Problems,
} from './names.js';
export type { NameRule } from './names.js';
export { assertNoSecrets, findSecrets, isCredentialKey } from './secrets.js';
export type { SecretFinding } from './secrets.js';
export { findUnknownFields } from './prune.js';
export type { UnknownField } from './prune.js';
