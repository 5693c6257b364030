/**
 * The plan on this router, from the dashboard: what is applied, a rollback countdown, apply and
 * confirm. Only when the daemon was started with --allow-apply (the routes refuse otherwise);
 * applying uses segment/apply.ts as `vigie segment --apply` does, with its automatic rollback.
 */
import { InputError } from '../capture/errors.js';
import type { EngineConfig } from '../analysis/config.js';
import { applyPlan as applyNft, confirmPlan as confirmNft, DEFAULT_RUN_DIR, status as applyStatus } from '../segment/apply.js';
import { renderNft } from '../segment/nft.js';
import type { PlanState } from '../server/api-types.js';
import { ApiError } from '../server/http.js';
import type { LiveHub } from '../server/live.js';
import type { Store } from '../store/store.js';
import { Segmentation } from './segmentation.js';

export class PlanControl {
  constructor(
    private readonly segmentation: Segmentation,
    private readonly config: EngineConfig,
    private readonly store: Store,
    private readonly hub: LiveHub,
    readonly allowApply: boolean,
    private readonly log: (msg: string) => void,
  ) {}

  /** Dashboards learn that the plan changed (a zone chosen, a profile re-opened or frozen). */
  changed(): void {
    this.hub.publish({ type: 'plan', digest: Segmentation.digest(this.segmentation.plan()) });
  }

  /** What the Segmentation page shows beside the plan: may it apply, what is applied, a countdown. */
  async state(): Promise<PlanState> {
    const digest = Segmentation.digest(this.segmentation.plan());
    const applied = this.store.applied();
    const rollback = this.allowApply ? await applyStatus({ runDir: this.runDir() }) : null;
    return { allowApply: this.allowApply, digest, applied, pending: rollback?.pending ? { secondsLeft: rollback.secondsLeft } : null, rollbackSeconds: this.rollbackSeconds() };
  }

  private rollbackSeconds(): number {
    return this.config.segment?.rollbackSeconds ?? 60;
  }

  /** The same folder as `vigie segment --apply` here: each sees the other's pending plan. */
  private runDir(): string {
    return DEFAULT_RUN_DIR.local;
  }

  /** Loads the plan on this router; it rolls back by itself unless confirmed in time. */
  async apply(client: string | null, digest?: string): Promise<PlanState> {
    const plan = this.segmentation.plan(client);
    const now = Segmentation.digest(plan);
    if (digest !== undefined && digest !== now) throw new ApiError(409, `the plan changed since it was shown (now ${now}): review it again before applying`);
    const seconds = this.rollbackSeconds();
    try {
      await applyNft(renderNft(plan), { rollbackSeconds: seconds, runDir: this.runDir() });
    } catch (e) {
      throw new ApiError(e instanceof InputError ? 409 : 500, (e as Error).message);
    }
    this.store.setApplied({ at: new Date().toISOString(), digest: now, confirmed: null, devices: plan.devices.filter((x) => x.zone !== 'trusted').length });
    this.log(`segmentation plan ${now} applied; it rolls back in ${seconds} s unless confirmed`);
    return this.state();
  }

  async confirm(): Promise<PlanState> {
    try {
      await confirmNft({ runDir: this.runDir() });
    } catch (e) {
      throw new ApiError(e instanceof InputError ? 409 : 500, (e as Error).message);
    }
    const a = this.store.confirmApplied();
    this.log(`segmentation plan ${a?.digest ?? ''} confirmed`);
    return this.state();
  }
}
