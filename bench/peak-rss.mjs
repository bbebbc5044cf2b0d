// Preloaded (`node --import`) into a benchmarked CLI process: writes its peak resident memory (kB)
// to $OSV_BENCH_RSS_FILE when it exits.
import { writeFileSync } from 'node:fs';

const file = process.env.OSV_BENCH_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
