/** dist/cli/built-by.json: which Node.js built dist/cli and its code caches. */
export const BUILT_BY_FILE: string;
/** The Node.js and V8 of this process, as that file records them. */
export function builtBy(): { node: string; v8: string };
