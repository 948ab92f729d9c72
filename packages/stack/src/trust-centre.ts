/**
 * The coordinator's Trust Centre role (05-3474 §4.6.3, centralised security): it decides who
 * may join (the application's admission policy: on a GB HAN the CHF Device Log), allocates
 * NWK addresses to its children and keeps the child table in NVM so a power cycle of the
 * hub does not forget who is on its network. Transport Key itself is sent by the node (it
 * owns the APS counter and the MAC); this module owns decisions and state.
 */
import type { Prng } from '@gbhan/radio-bus';
import type { NvStore, NvValue } from './nvm.js';

/** The application's verdict on a joiner: its TC link key, or null to refuse it. */
export type AdmissionPolicy = (eui64: string) => { linkKey: Uint8Array } | null;

export interface ChildEntry {
  eui64: string;
  short: number;
  rxOnWhenIdle: boolean;
  /** Router-capable (FFD) child. */
  router: boolean;
  /** Set once the child has proved it holds the network key (a secured frame from it). */
  authenticated: boolean;
}

const CHILDREN_KEY = 'stack.children';

export class TrustCentre {
  private readonly children = new Map<string, ChildEntry>();

  constructor(
    private readonly nvm: NvStore,
    private readonly prng: Prng,
    readonly admission: AdmissionPolicy,
  ) {
    const stored = nvm.read<NvValue[]>(CHILDREN_KEY) ?? [];
    for (const c of stored as unknown as ChildEntry[]) this.children.set(c.eui64, c);
  }

  child(eui64: string): ChildEntry | undefined {
    return this.children.get(eui64);
  }

  childByShort(short: number): ChildEntry | undefined {
    for (const c of this.children.values()) if (c.short === short) return c;
    return undefined;
  }

  all(): ChildEntry[] {
    return [...this.children.values()];
  }

  /**
   * ASSUMPTION: stochastic address assignment (05-3474 §3.6.1.7.2, nwkAddrAlloc = 2), drawn
   * from the node's seeded Prng in 0x0001..0xfff7 avoiding addresses in use; a rejoining
   * child keeps its address when it is still free.
   */
  allocate(eui64: string, preferred?: number): number {
    const existing = this.children.get(eui64);
    if (existing) return existing.short;
    const used = new Set([0x0000, ...[...this.children.values()].map((c) => c.short)]);
    if (preferred !== undefined && preferred > 0 && preferred <= 0xfff7 && !used.has(preferred))
      return preferred;
    for (;;) {
      const a = 1 + (this.prng.nextUint32() % 0xfff7);
      if (!used.has(a)) return a;
    }
  }

  upsert(entry: ChildEntry): void {
    this.children.set(entry.eui64, { ...entry });
    this.persist();
  }

  markAuthenticated(eui64: string): boolean {
    const c = this.children.get(eui64);
    if (!c || c.authenticated) return false;
    c.authenticated = true;
    this.persist();
    return true;
  }

  remove(eui64: string): boolean {
    const had = this.children.delete(eui64);
    if (had) this.persist();
    return had;
  }

  clear(): void {
    this.children.clear();
    this.persist();
  }

  private persist(): void {
    this.nvm.commit({ [CHILDREN_KEY]: this.all() as unknown as NvValue });
  }
}
