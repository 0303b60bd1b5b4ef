// Preloaded with `node --import` by bench/run.ts: prints the process's peak resident set size
// on exit as one JSON line on stderr (Node reports maxRSS in KiB).
process.on('exit', () => {
  process.stderr.write(JSON.stringify({ maxRssBytes: process.resourceUsage().maxRSS * 1024 }) + '\n');
});
