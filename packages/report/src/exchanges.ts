/**
 * The application-level exchanges of the sequence diagram, read off device trace events:
 * association, Transport Key, CBKE messages, tunnel requests and data, GBCS commands and
 * responses, alerts, Inter-PAN hand-over, WAN commands, attacker sends. Each arrow names the
 * side that traced it, which decides the capture frame it is tied to: the sender's next frame
 * on air, or the last frame the receiver heard.
 */

/** The WAN side (DCC, head-end systems): a column of its own in the diagram. */
export const WAN = 'DCC (WAN)';

export interface Arrow {
  t: number;
  from: string;
  to: string;
  label: string;
  kind: 'join' | 'key' | 'cbke' | 'tunnel' | 'gbcs' | 'alert' | 'interpan' | 'wan' | 'attack';
  /** `sender`: frame = its next transmission; `receiver`: the last frame it heard; `none`: no radio frame (WAN). */
  side: 'sender' | 'receiver' | 'none';
  bad: boolean;
  /** Capture frame number (tshark `frame.number`), when known. */
  frame?: number;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The arrow a device event stands for, or null when it is no exchange between parties. */
export function arrowOf(
  radio: string,
  t: number,
  type: string,
  ev: Record<string, unknown>,
  name: (eui: string) => string,
): Arrow | null {
  const me = name(radio);
  const a = (
    from: string | undefined,
    to: string | undefined,
    label: string,
    kind: Arrow['kind'],
    side: Arrow['side'],
    bad = false,
  ): Arrow | null =>
    from === undefined || to === undefined ? null : { t, from, to, label, kind, side, bad };
  const n = (v: unknown) => {
    const s = str(v);
    return s === undefined ? undefined : name(s);
  };
  switch (type) {
    case 'associated':
      return a(n(ev.eui64), me, 'Association', 'join', 'receiver');
    case 'transport-key':
      return ev.from !== undefined
        ? a(n(ev.from), me, 'Transport Key (network)', 'key', 'receiver')
        : a(
            me,
            n(ev.to),
            'Transport Key (network)',
            'key',
            'sender',
            ev.status !== undefined && ev.status !== 'sent',
          );
    case 'cbke-send':
      return a(
        me,
        n(ev.peer),
        `CBKE ${String(ev.command)}`,
        'cbke',
        'sender',
        ev.command === 'TerminateKeyEstablishment',
      );
    case 'partner-key':
      return ev.status === 'sent'
        ? a(me, n(ev.requester), 'APS Transport Key (partner)', 'key', 'sender')
        : null;
    case 'tunnel-request-sent':
      return a(me, n(ev.peer), `Request Tunnel (${String(ev.why)})`, 'tunnel', 'sender');
    case 'tunnel-data-out':
      return a(me, n(ev.client ?? ev.peer), `TransferData ${String(ev.length)} B`, 'tunnel', 'sender');
    case 'device-alert':
      return a(
        n(ev.from),
        me,
        `alert ${String(ev.codeHex)} via ${String(ev.via)}`,
        'alert',
        'receiver',
        true,
      );
    case 'gbcs-command-sent':
      return a(
        WAN,
        me,
        `GBCS ${String(ev.useCase)} ${String(ev.requestId)}${ev.forged ? ' (forged)' : ''}`,
        'gbcs',
        'none',
        ev.forged === true,
      );
    case 'gbcs-command-executed':
      return a(n(ev.from), me, `GBCS ${String(ev.useCase)} run: ${String(ev.result)}`, 'gbcs', 'receiver');
    case 'gbcs-command-refused':
      return a(n(ev.from), me, `GBCS refused: ${String(ev.reason)}`, 'gbcs', 'receiver', true);
    case 'gbcs-response':
      return a(
        me,
        WAN,
        `GBCS response ${String(ev.useCase ?? '?')}${ev.refusal ? ` refused: ${String(ev.refusal)}` : ''}`,
        'gbcs',
        'none',
        ev.refusal != null,
      );
    case 'gbcs-han-command':
      return a(
        n(ev.from),
        me,
        `GBCS ${String(ev.useCase)} from HAN${ev.reason ? ` refused: ${String(ev.reason)}` : ''}`,
        'gbcs',
        'receiver',
        ev.reason !== undefined,
      );
    case 'interpan-handover-sent':
      return a(me, n(ev.ch), `Inter-PAN hand-over (${String(ev.deviceType)})`, 'interpan', 'sender');
    case 'interpan-handover':
      return a(
        n(ev.peer),
        me,
        `hand-over ${ev.status === 0 ? 'accepted' : `status ${String(ev.status)}`}`,
        'interpan',
        'receiver',
        ev.status !== 0,
      );
    case 'wan-command':
      return a(
        WAN,
        me,
        `WAN ${String((ev.command as Record<string, unknown> | undefined)?.action ?? 'command')}`,
        'wan',
        'none',
      );
    case 'wan-command-failed':
      return a(me, WAN, `WAN command failed: ${String(ev.code)}`, 'wan', 'none', true);
    case 'wan-response':
      return a(me, WAN, `WAN response ${String(ev.command ?? '')}`.trim(), 'wan', 'none');
    case 'wan-alert':
      return a(me, WAN, `WAN alert ${String(ev.codeHex)}`, 'alert', 'none', true);
    case 'attacker-send':
      return a(me, '*', `attack: ${String(ev.what)}`, 'attack', 'sender', true);
    case 'attacker-replay':
      return a(me, '*', `attack: replay ${String(ev.frames)} frames`, 'attack', 'sender', true);
    case 'ppmid-attack':
      return a(
        me,
        WAN,
        `compromised PPMID: ${String(ev.action ?? ev.what ?? 'attack')}`,
        'attack',
        'none',
        true,
      );
    default:
      return null;
  }
}
