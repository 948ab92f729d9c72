/**
 * The benchmark's radio, whatever carries it: registers, transmits a 60-byte frame in its own
 * TDMA slot every 100 ms of virtual time, counts what it hears; resolves with that count when
 * the bus closes.
 */
import { MILLISECOND } from '@gbhan/clock';
import { BusRadio, type ClientTransport } from '@gbhan/radio-bus';

export async function benchRadio(transport: ClientTransport, index: number, frames: number): Promise<number> {
  const radio = await BusRadio.connect(transport, {
    eui64: (0x1000 + index).toString(16).padStart(16, '0'),
    band: '2.4GHz',
    page: 0,
    channel: 20,
    position: { x: index % 5, y: Math.floor(index / 5) },
  });
  let heard = 0;
  radio.onReceive(() => {
    heard++;
  });
  const psdu = new Uint8Array(60).fill(index);
  let sent = 0;
  const send = () => {
    void radio.transmit(psdu);
    if (++sent < frames) radio.clock.setTimer(100 * MILLISECOND, send);
  };
  radio.clock.setTimerAt(index * 5 * MILLISECOND + MILLISECOND, send);
  return new Promise((resolve) => radio.onClose(() => resolve(heard)));
}
