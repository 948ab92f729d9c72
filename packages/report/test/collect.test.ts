/**
 * The report's collector on a small hand-made trace: lanes get their intervals and marks,
 * exchanges become arrows tied to the right capture frame, caps hold and are counted, and the
 * rendered page names devices by id and links each verdict to its deciding event.
 */
import type { BusTraceEvent } from '@gbhan/radio-bus';
import { describe, expect, it } from 'vitest';
import { ReportCollector, type ReportDevice, type ReportRun, renderReport, withIds } from '../src/index.js';

const CH = '00124b0000c0ffee';
const ESME = '00124b0000e5e5e5';
const devices: ReportDevice[] = [
  { id: 'ch', type: 'comms-hub', eui64: CH, band: '2.4GHz', channel: 11, position: { x: 0, y: 0 } },
  { id: 'esme', type: 'esme', eui64: ESME, band: '2.4GHz', channel: 11, position: { x: 5, y: 0 } },
];
const dev = (t: number, radio: string, event: Record<string, unknown>) =>
  ({ t, type: 'device', radio, event }) as unknown as BusTraceEvent;
const tx = (t: number, radio: string, frame: number) =>
  ({
    t,
    type: 'tx',
    radio,
    frame,
    band: '2.4GHz',
    page: 0,
    channel: 11,
    bytes: 10,
    airtimeUs: 500,
    psdu: '00',
  }) as BusTraceEvent;
const rx = (t: number, radio: string, from: string, frame: number) =>
  ({ t, type: 'rx', radio, from, frame, rssi: -50, lqi: 255 }) as BusTraceEvent;

function sample(): BusTraceEvent[] {
  return [
    dev(0, CH, { type: 'power', on: true }),
    dev(0, ESME, { type: 'power', on: true }),
    dev(0, CH, { type: 'interpan-window', state: 'open', durationUs: 100, leftUs: 100 }),
    tx(10, ESME, 0),
    rx(11, CH, ESME, 0),
    dev(20, CH, { type: 'associated', eui64: ESME, short: 1, rxOnWhenIdle: true }),
    dev(30, ESME, { type: 'cbke-start', role: 'initiator', peer: CH }),
    dev(30, ESME, { type: 'cbke-send', peer: CH, command: 'InitiateKeyEstablishment', direction: 'request' }),
    tx(31, ESME, 1),
    rx(32, CH, ESME, 1),
    dev(50, ESME, { type: 'cbke-established', role: 'initiator', peer: CH, suite: 2, via: 'han' }),
    dev(60, CH, { type: 'wan-down' }),
    dev(70, CH, { type: 'interpan-window', state: 'closed' }),
    dev(80, ESME, { type: 'power', on: false }),
  ];
}

describe('ReportCollector', () => {
  it('turns device events into lane intervals and marks', () => {
    const c = new ReportCollector(devices);
    for (const e of sample()) c.push(e);
    const ch = c.lanes.get(CH)!;
    const esme = c.lanes.get(ESME)!;
    expect(ch.intervals.window).toEqual([{ start: 0, end: 70, label: 'Inter-PAN window open' }]);
    expect(ch.intervals.wan).toEqual([{ start: 60, end: null, label: 'WAN down' }]);
    expect(esme.intervals.power).toEqual([{ start: 0, end: 80, label: 'on' }]);
    expect(esme.intervals.cbke).toEqual([{ start: 30, end: 50, label: 'CBKE running' }]);
    expect(esme.marks.cbke?.map((m) => m.label)).toEqual([
      'cbke-established role=initiator peer=ch suite=2 via=han',
    ]);
    expect(c.frames).toBe(2);
    expect(c.linkFrames.get('esme\tch')).toBe(2);
  });

  it('ties a sender-side arrow to its next frame and a receiver-side one to the last frame heard', () => {
    const c = new ReportCollector(devices);
    for (const e of sample()) c.push(e);
    expect(c.arrows.map((a) => [a.from, a.to, a.label, a.frame])).toEqual([
      ['esme', 'ch', 'Association', 1],
      ['esme', 'ch', 'CBKE InitiateKeyEstablishment', 2],
    ]);
  });

  it('keeps to its caps and counts what it left out', () => {
    const c = new ReportCollector(devices, {
      intervalsPerTrack: 2,
      marksPerTrack: 3,
      arrows: 4,
      dutyStates: 1,
    });
    for (let i = 0; i < 10; i++) {
      c.push(dev(i * 10, ESME, { type: 'cbke-start', role: 'initiator', peer: CH }));
      c.push(
        dev(i * 10 + 1, ESME, {
          type: 'cbke-send',
          peer: CH,
          command: 'EphemeralData',
          direction: 'request',
        }),
      );
      c.push(
        dev(i * 10 + 2, ESME, { type: 'cbke-failed', role: 'initiator', peer: CH, reason: 'X', message: '' }),
      );
    }
    const lane = c.lanes.get(ESME)!;
    expect(lane.intervals.cbke).toHaveLength(2);
    expect(lane.marks.cbke).toHaveLength(3);
    expect(lane.dropped).toBe(8 + 7);
    expect(c.arrows).toHaveLength(4);
    expect([...c.arrowsOver.values()]).toEqual([6]);
  });
});

describe('renderReport', () => {
  const run: ReportRun = {
    name: 'tiny',
    file: 'tiny.yaml',
    seed: '1',
    mode: 'in-process',
    durationUs: 100,
    wallMs: 5,
    expectations: [
      {
        text: 'CBKE done',
        line: 3,
        held: true,
        detail: 'at 50us',
        event: { t: 50, summary: `device esme {"type":"cbke-established","peer":"${CH}"}` },
      },
      { text: 'never a crash', line: 4, held: false, detail: 'happened' },
    ],
    drops: { collision: 2 },
    radios: [{ id: 'esme', type: 'esme', tx: 2, rx: 0, outOfRange: 0, otherChannel: 0 }],
    risks: [],
    walls: [{ from: [2, -1], to: [2, 1] }],
    capture: 'capture.pcap',
  };

  it('links each verdict to its deciding event on its device lane, by id and never by EUI64', async () => {
    const c = new ReportCollector(devices);
    for (const e of sample()) c.push(e);
    const html = await renderReport(run, c);
    expect(html).toContain('<li id="exp-0" class="verdict held">');
    expect(html).toContain('<a href="#decide-0" class="goto">');
    const lane = html.slice(html.indexOf('<section class="lane" id="lane-esme"'));
    expect(lane.slice(0, lane.indexOf('</section>'))).toContain('id="decide-0" href="#exp-0"');
    expect(html).toContain('<li id="exp-1" class="verdict failed"><b>FAILED</b>');
    expect(html).not.toMatch(new RegExp(`${CH}|${ESME}`));
    expect(html).toContain('data-frame="2"');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/);
    expect(html.match(/<svg/g)!.length).toBeGreaterThanOrEqual(4);
  });

  it('a verdict whose device lane is not drawn still links to its event (on the run lane)', async () => {
    const c = new ReportCollector(devices);
    for (const e of sample()) c.push(e);
    const onCh = {
      text: 'the window closes',
      line: 5,
      held: true,
      detail: 'at 70us',
      event: { t: 70, summary: 'device ch {}' },
    };
    const html = await renderReport({ ...run, expectations: [...run.expectations, onCh] }, c, {
      maxLanes: 1,
    });
    expect(html).toContain('1 of 2 devices not drawn');
    const chDrawn = html.includes('id="lane-ch"');
    expect(chDrawn).toBe(!html.includes('id="lane-esme"'));
    const links = [...html.matchAll(/href="#decide-(\d+)"/g)].map((m) => m[1]);
    expect(links).toEqual(['0', '2']);
    for (const n of links) expect(html).toContain(`id="decide-${n}"`);
    const runLane = html.slice(html.indexOf('<section class="lane" id="lane-run"'));
    // the verdict of the device not drawn sits on the run's lane
    expect(runLane.slice(0, runLane.indexOf('</section>'))).toContain(`id="decide-${chDrawn ? 0 : 2}"`);
  });

  it('withIds names known EUI64s and leaves others', () => {
    const name = (e: string) => (e === CH ? 'ch' : e);
    expect(withIds(`peer ${CH.toUpperCase()} and 00124b0000aaaaaa`, name)).toBe(
      'peer ch and 00124b0000aaaaaa',
    );
  });
});
