/**
 * Which members are worth a call: each endpoint's own status, asked every second with a short
 * deadline. A member cut off by a partition does not refuse connections, it swallows them, so
 * without this every call that the pool sends its way waits out the full request deadline (10 s)
 * before the circuit breaker learns anything; with three members, a client with a request a
 * third of the time on it is stuck within a second. A member that does not answer in time, or
 * answers without a leader (it lost its quorum), is skipped until it answers with one again.
 * Never all of them: when none looks well, calls go everywhere, as without the prober.
 */
import type { Etcd3 } from 'etcd3';

export interface ProberOptions {
  endpoints: string[];
  /** A client of that endpoint alone, failing fast with a short deadline on each call. */
  connect(endpoint: string): Etcd3;
  everyMs: number;
}

export class EndpointProber {
  private readonly down = new Set<string>();
  private readonly clients = new Map<string, Etcd3>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: ProberOptions) {
    for (const e of o.endpoints) this.clients.set(e, o.connect(e));
    this.schedule();
  }

  /** True when calls should not go to this endpoint now. */
  skip(endpoint: string): boolean {
    return this.down.has(endpoint) && this.down.size < this.o.endpoints.length;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const c of this.clients.values()) c.close();
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => void this.round().finally(() => this.schedule()), this.o.everyMs);
    this.timer.unref();
  }

  private async round(): Promise<void> {
    await Promise.all(
      [...this.clients].map(async ([e, c]) => {
        let well = false;
        try {
          const st = await c.maintenance.status();
          well = st.leader !== '0' && st.leader !== '';
        } catch {}
        if (well) this.down.delete(e);
        else this.down.add(e);
      }),
    );
  }
}
