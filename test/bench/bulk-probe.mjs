// Preloaded into a benchmarked process with `node --import ./test/bench/bulk-probe.mjs …`: at exit
// it writes the process's own CPU time and peak RSS to $BENCH_PROBE_OUT (JSON), so the benchmark
// measures exactly the client, whatever the platform.
import { writeFileSync } from 'node:fs';

const out = process.env.BENCH_PROBE_OUT;
if (out) {
  process.on('exit', () => {
    const cpu = process.cpuUsage();
    const usage = process.resourceUsage();
    writeFileSync(
      out,
      JSON.stringify({ userMs: cpu.user / 1000, systemMs: cpu.system / 1000, maxRssBytes: usage.maxRSS * 1024 }),
    );
  });
}
