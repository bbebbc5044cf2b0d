/** Copies the example in `exampleDir` into the existing folder `dumpDir` as a must-gather. */
export function copyExampleDump(exampleDir: string, dumpDir: string): void;
