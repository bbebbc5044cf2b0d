// Preloaded (`node --require`) into a benchmarked CLI process: writes its peak resident memory (kB)
// to $OSV_BENCH_RSS_FILE when it exits. CommonJS, so that measuring does not start Node's ES module
// loader in a process that would not otherwise start it (that alone cost ~7% of `plan --example`).
'use strict';
const { writeFileSync } = require('node:fs');

const file = process.env.OSV_BENCH_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
