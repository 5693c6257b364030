// V8 flags for the daemon, measured by `npm run bench:live` (README, "Performance"):
// - a 2 MiB young generation instead of 16: about 40 MB less RSS on a router, and no slower here;
// - one V8 helper thread instead of four: each thread's malloc arena and stack cost ~1 MB of RSS,
//   and a router has one or two cores to give them anyway (its compiler and GC work still runs
//   off the main thread).
// The systemd unit and the OpenWrt init script pass the same flags (tested).
export const NODE_FLAGS = ['--max-semi-space-size=2', '--v8-pool-size=1'];
