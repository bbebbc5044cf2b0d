/** Validation: the input grammars, rendered objects against CRD schemas, names, secrets. */
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
export { assertNoSecrets, assertNoSecretsInFiles, describeFinding, findSecrets, isCredentialKey } from './secrets.js';
export type { SecretFinding, SecretScanOptions } from './secrets.js';
export {
  NAME_RULES,
  gitRefProblems,
  imageReferenceProblems,
  isImageReference,
  isReleaseVersion,
  parseAttempt,
  parseGitRef,
  parseImageReference,
  parseIsoDate,
  parseName,
  parseNamespace,
  parsePhaseIndex,
  parseReleaseVersion,
  parseRepoUrl,
  releaseVersionProblems,
  repoUrlProblems,
} from './grammar.js';
export type { NameKind } from './grammar.js';
export { escapeControls, quoteInput } from './quote.js';
export { findUnknownFields } from './prune.js';
export type { UnknownField } from './prune.js';
