// Pages that hold data of their own (the overview's figures, a device's destinations) load it
// when they open, then again after the live feed changed something, at most every `ms`: a burst
// of alerts makes one request, not one each. `also` names more changes to follow (the plan's
// live messages). Call during a component's initialisation.
import { app } from './state.svelte';

export function reloadOnChange(load: () => Promise<void>, ms: number, also?: () => unknown): void {
  let pending: ReturnType<typeof setTimeout> | null = null;
  let first = true;
  $effect(() => {
    void app.version;
    also?.();
    if (pending) return;
    pending = setTimeout(
      () => {
        pending = null;
        void load();
      },
      first ? 0 : ms,
    );
    first = false;
  });
  $effect(() => () => {
    if (pending) clearTimeout(pending);
  });
}
