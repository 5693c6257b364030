/**
 * The shell script that applies, confirms, rolls back or shows Vigie's tables on a router. One
 * POSIX sh script for both paths (`sh -s` here, `ssh … sh -s` on a router; busybox ash on
 * OpenWrt), so that the rollback timer lives on the router itself: `--confirm` is a separate
 * invocation and the ssh link may drop in the middle of a change.
 *
 * Files under the run directory: `pending` (a plan waits for confirmation), `deadline` (epoch
 * seconds), `timer.pid`, `restore.nft` (what the rollback loads: Vigie's tables as they were, or
 * their deletion), `last` (what happened last: confirmed, rolled-back, rollback-failed, and
 * when), `lock/` (mkdir is atomic: apply, confirm and the timer never interleave).
 *
 * The script answers on stdout with `vigie: key=value …` lines and copies nft's own messages on
 * `vigie-nft: …` lines; apply.ts reads them.
 */

export type ScriptAction = 'apply' | 'confirm' | 'status' | 'rollback' | 'show';

export interface ScriptParams {
  runDir: string;
  /** apply: seconds before the automatic rollback. */
  rollbackSeconds?: number;
  /** apply and show (show checks it with `nft -c`). */
  nftText?: string;
  /** After a load or a rollback, dnsmasq gets SIGHUP: it clears its cache, so the next lookups are forwarded and fill the new sets. */
  dnsmasqPidFile?: string;
}

/** Exit codes of the script, for apply.ts. */
export const SCRIPT_EXIT = { ok: 0, rundir: 3, pending: 10, stale: 11, busy: 12, noNft: 13, load: 14, backup: 15, rollbackFailed: 16, notPending: 20 } as const;

/** Single-quoted for sh: nothing inside is expanded. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A here-document delimiter that no line of the text equals. */
function delimiter(text: string, base: string): string {
  const lines = new Set(text.split('\n'));
  let d = base;
  for (let i = 0; lines.has(d); i++) d = `${base}_${i}`;
  return d;
}

/** Functions both the main script and the timer need. */
const COMMON = String.raw`
# vigie_lock [TRIES]: 15 one-second tries by default, 0 for no limit (the timer must not give up).
vigie_lock() {
  vigie_n=0
  vigie_max=15
  [ $# -gt 0 ] && vigie_max=$1
  while ! mkdir "$vigie_dir/lock" 2>/dev/null; do
    # A lock left by a process that is gone (killed, power cut) is taken over.
    vigie_p=$(cat "$vigie_dir/lock/pid" 2>/dev/null)
    if [ -n "$vigie_p" ] && ! kill -0 "$vigie_p" 2>/dev/null; then rm -rf "$vigie_dir/lock"; continue; fi
    vigie_n=$((vigie_n + 1))
    if [ "$vigie_n" = "$vigie_max" ]; then echo "vigie: error=busy"; return 12; fi
    sleep 1
  done
  echo $$ > "$vigie_dir/lock/pid"
}
vigie_unlock() { rm -rf "$vigie_dir/lock"; }
vigie_msg() { [ -f "$vigie_dir/$1" ] && sed 's/^/vigie-nft: /' "$vigie_dir/$1"; return 0; }
vigie_say() { printf '%s\n' "$1" | sed 's/^/vigie-nft: /'; }
# What happened last, in vigie_last and vigie_at.
vigie_read_last() {
  vigie_last=none
  vigie_at=0
  [ -f "$vigie_dir/last" ] && read -r vigie_last vigie_at < "$vigie_dir/last"
  return 0
}
vigie_hup() {
  if [ -n "$vigie_dnsmasq_pid" ] && [ -f "$vigie_dnsmasq_pid" ]; then kill -HUP "$(cat "$vigie_dnsmasq_pid")" 2>/dev/null; fi
  return 0
}
vigie_left() {
  vigie_l=$(( $(cat "$vigie_dir/deadline" 2>/dev/null || echo 0) - $(date +%s) ))
  [ "$vigie_l" -lt 0 ] && vigie_l=0
  echo "$vigie_l"
}
# The rollback timer is alive: the pid in timer.pid runs it (not a reused pid).
vigie_timer_alive() {
  vigie_t=$(cat "$vigie_dir/timer.pid" 2>/dev/null)
  [ -n "$vigie_t" ] && kill -0 "$vigie_t" 2>/dev/null && grep -q vigie-rollback-timer "/proc/$vigie_t/cmdline" 2>/dev/null
}
vigie_kill_timer() {
  if vigie_timer_alive; then kill "$vigie_t" 2>/dev/null; fi
  rm -f "$vigie_dir/timer.pid"
}
# Loads restore.nft (called with the lock held and a plan pending).
vigie_restore() {
  if nft -f "$vigie_dir/restore.nft" </dev/null 2>"$vigie_dir/restore.err"; then
    echo "rolled-back $(date +%s)" > "$vigie_dir/last"
    rm -f "$vigie_dir/pending"
    vigie_hup
    return 0
  fi
  echo "rollback-failed $(date +%s)" > "$vigie_dir/last"
  rm -f "$vigie_dir/pending"
  return 16
}
# "table F vigie" is loaded (0), absent (1), or nft cannot tell (2, its message in vigie_out).
vigie_has_table() {
  vigie_out=$(nft list tables "$1" </dev/null 2>&1) || return 2
  printf '%s\n' "$vigie_out" | grep -qx "table $1 vigie"
}
`;

/** The detached timer: waits for the deadline, then rolls back unless the marker is gone. */
const TIMER = String.raw`
vigie_timer() {
  vigie_deadline=$(cat "$vigie_dir/deadline")
  while [ -f "$vigie_dir/pending" ]; do
    [ "$(date +%s)" -ge "$vigie_deadline" ] && break
    sleep 1
  done
  vigie_lock 0
  # Confirmed while it waited for the lock: nothing to do.
  if [ -f "$vigie_dir/pending" ] && [ "$(cat "$vigie_dir/timer.pid" 2>/dev/null)" = "$$" ]; then vigie_restore; fi
  rm -f "$vigie_dir/timer.pid"
  vigie_unlock
}
`;

const ACTIONS: Record<ScriptAction, string> = {
  apply: String.raw`
vigie_apply() {
  if [ -f "$vigie_dir/pending" ]; then
    if vigie_timer_alive; then echo "vigie: error=pending left=$(vigie_left)"; return 10; fi
    echo "vigie: error=stale"
    return 11
  fi
  vigie_plan > "$vigie_dir/plan.nft" || { echo "vigie: error=rundir"; return 3; }
  # The backup: each of Vigie's tables as it is, or its absence (then the rollback deletes it).
  : > "$vigie_dir/restore.new"
  vigie_prev=""
  for vigie_f in inet bridge; do
    printf 'table %s vigie\ndelete table %s vigie\n' "$vigie_f" "$vigie_f" >> "$vigie_dir/restore.new"
    vigie_has_table "$vigie_f"
    case $? in
      0)
        if ! nft list table "$vigie_f" vigie </dev/null >> "$vigie_dir/restore.new" 2>"$vigie_dir/list.err"; then
          echo "vigie: error=backup"; vigie_msg list.err; return 15
        fi
        vigie_prev="$vigie_prev $vigie_f=present" ;;
      1) vigie_prev="$vigie_prev $vigie_f=absent" ;;
      *) echo "vigie: error=backup"; vigie_say "$vigie_out"; return 15 ;;
    esac
  done
  # A backup that would not load is no rollback: refuse before changing anything.
  if ! nft -c -f "$vigie_dir/restore.new" </dev/null 2>"$vigie_dir/list.err"; then
    echo "vigie: error=backup"; vigie_msg list.err; return 15
  fi
  mv "$vigie_dir/restore.new" "$vigie_dir/restore.nft"
  # The timer is armed before the load: if the link drops during it, the router still rolls back.
  vigie_deadline=$(( $(date +%s) + vigie_secs ))
  echo "$vigie_deadline" > "$vigie_dir/deadline"
  date +%s > "$vigie_dir/pending"
  rm -f "$vigie_dir/restore.err"
  vigie_timer_script > "$vigie_dir/timer.sh"
  # Detached: stdio closed, SIGHUP ignored (inherited through exec, as nohup does), so the end of
  # the ssh session does not stop it. "vigie-rollback-timer" marks it in /proc/PID/cmdline.
  sh "$vigie_dir/timer.sh" vigie-rollback-timer </dev/null >/dev/null 2>&1 &
  echo $! > "$vigie_dir/timer.pid"
  if ! nft -f "$vigie_dir/plan.nft" </dev/null 2>"$vigie_dir/load.err"; then
    rm -f "$vigie_dir/pending"
    vigie_kill_timer
    echo "vigie: error=load"
    vigie_msg load.err
    return 14
  fi
  rm -f "$vigie_dir/last"
  vigie_hup
  echo "vigie: applied deadline=$vigie_deadline left=$vigie_secs$vigie_prev"
}
vigie_main() {
  mkdir -p "$vigie_dir" 2>/dev/null || { echo "vigie: error=rundir"; return 3; }
  command -v nft >/dev/null 2>&1 || { echo "vigie: error=no-nft"; return 13; }
  vigie_lock || return $?
  vigie_apply
  vigie_rc=$?
  vigie_unlock
  return $vigie_rc
}
`,
  confirm: String.raw`
vigie_main() {
  [ -d "$vigie_dir" ] || { echo "vigie: error=not-pending last=none at=0"; return 20; }
  vigie_lock || return $?
  if [ -f "$vigie_dir/pending" ]; then
    rm -f "$vigie_dir/pending"
    vigie_kill_timer
    echo "confirmed $(date +%s)" > "$vigie_dir/last"
    vigie_unlock
    echo "vigie: confirmed"
    return 0
  fi
  vigie_unlock
  vigie_read_last
  echo "vigie: error=not-pending last=$vigie_last at=$vigie_at"
  return 20
}
`,
  rollback: String.raw`
vigie_main() {
  [ -d "$vigie_dir" ] || { echo "vigie: error=not-pending last=none at=0"; return 20; }
  command -v nft >/dev/null 2>&1 || { echo "vigie: error=no-nft"; return 13; }
  vigie_lock || return $?
  if [ -f "$vigie_dir/pending" ]; then
    vigie_kill_timer
    if vigie_restore; then vigie_unlock; echo "vigie: rolled-back"; return 0; fi
    vigie_unlock
    echo "vigie: error=rollback-failed"
    vigie_msg restore.err
    return 16
  fi
  vigie_unlock
  vigie_read_last
  echo "vigie: error=not-pending last=$vigie_last at=$vigie_at"
  return 20
}
`,
  status: String.raw`
vigie_main() {
  vigie_tables=""
  if command -v nft >/dev/null 2>&1; then
    for vigie_f in inet bridge; do
      vigie_has_table "$vigie_f"
      case $? in 0) vigie_tables="$vigie_tables $vigie_f=present" ;; 1) vigie_tables="$vigie_tables $vigie_f=absent" ;; *) vigie_tables="$vigie_tables $vigie_f=unknown" ;; esac
    done
  fi
  if [ -f "$vigie_dir/pending" ]; then
    if vigie_timer_alive; then vigie_s=alive; else vigie_s=dead; fi
    echo "vigie: pending=1 left=$(vigie_left) deadline=$(cat "$vigie_dir/deadline" 2>/dev/null || echo 0) timer=$vigie_s$vigie_tables"
  else
    vigie_read_last
    echo "vigie: pending=0 last=$vigie_last at=$vigie_at$vigie_tables"
    [ "$vigie_last" = rollback-failed ] && vigie_msg restore.err
  fi
  return 0
}
`,
  show: String.raw`
vigie_main() {
  command -v nft >/dev/null 2>&1 || { echo "vigie: error=no-nft"; return 13; }
  for vigie_f in inet bridge; do
    vigie_has_table "$vigie_f"
    case $? in
      0)
        echo "vigie: begin=$vigie_f"
        nft -j list table "$vigie_f" vigie </dev/null
        echo
        echo "vigie: end=$vigie_f" ;;
      1) echo "vigie: absent=$vigie_f" ;;
      *) echo "vigie: error=list"; vigie_say "$vigie_out"; return 13 ;;
    esac
  done
  # nft -c runs the transaction in the kernel and aborts it: what a load would say, nothing changed.
  if vigie_out=$(vigie_plan | nft -c -f - 2>&1); then echo "vigie: check=ok"; else
    echo "vigie: check=failed"; vigie_say "$vigie_out"
  fi
  return 0
}
`,
};

/** The script for one action; its input is embedded, so it is sent whole on stdin. */
export function segmentScript(action: ScriptAction, p: ScriptParams): string {
  const plan = p.nftText ?? '';
  const planDelim = delimiter(plan, 'VIGIE_PLAN_END');
  const timer = `vigie_dir=${shQuote(p.runDir)}\nvigie_dnsmasq_pid=${shQuote(p.dnsmasqPidFile ?? '')}\n${COMMON}${TIMER}\ntrap '' HUP PIPE\nvigie_timer\n`;
  const timerDelim = delimiter(timer, 'VIGIE_TIMER_END');
  const secs = p.rollbackSeconds ?? 0;
  if (!Number.isInteger(secs) || secs < 0) throw new Error(`rollbackSeconds must be a whole number of seconds (found ${secs})`);
  return [
    `# Vigie segmentation: ${action}. Generated; POSIX sh (busybox ash on OpenWrt).`,
    '# Everything below is a function until the last line: a script cut short by a dropped link does nothing.',
    `vigie_dir=${shQuote(p.runDir)}`,
    `vigie_secs=${secs}`,
    `vigie_dnsmasq_pid=${shQuote(p.dnsmasqPidFile ?? '')}`,
    COMMON,
    'vigie_plan() {',
    `cat <<'${planDelim}'`,
    plan.endsWith('\n') || plan === '' ? plan.replace(/\n$/, '') : plan,
    planDelim,
    '}',
    'vigie_timer_script() {',
    `cat <<'${timerDelim}'`,
    timer.replace(/\n$/, ''),
    timerDelim,
    '}',
    ACTIONS[action],
    // HUP: the end of the ssh session must not stop a change half-way. PIPE: nor a closed stdout.
    "trap '' HUP PIPE",
    'umask 077',
    'vigie_main </dev/null',
    'exit $?',
    '',
  ].join('\n');
}
