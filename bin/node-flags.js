// V8 flags for the daemon, measured by `npm run bench:live` (README, "Performance"):
// - a 2 MiB young generation instead of 16: about 40 MB less RSS on a router, and no slower here;
// - one V8 helper thread instead of four: each thread's malloc arena and stack cost ~1 MB of RSS,
//   and a router has one or two cores to give them anyway (its compiler and GC work still runs
//   off the main thread).
// The systemd unit and the OpenWrt init script pass the same flags (tested).
export const NODE_FLAGS = ['--max-semi-space-size=2', '--v8-pool-size=1'];

// Offline commands (analyze, segment) only: the old generation grows by half before the next full
// collection instead of V8's own factor (up to 4x on a fast-allocating run). Measured on the
// `npm run bench` shapes: peak RSS 178 -> 129 MB (churn) and 115 -> 105 MB (home), CPU time equal
// or lower. No hard cap: a capture with many live flows still gets the memory it needs. Not yet
// for the daemon, whose live figures (bench:live) decide its flags.
export const OFFLINE_FLAGS = ['--heap-growing-percent=50'];
export const OFFLINE_COMMANDS = new Set(['analyze', 'segment']);
