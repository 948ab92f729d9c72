/**
 * Lock-step floor client: plain ws, no bus. Answers every message with an `idle`-sized reply,
 * which is the least any conservative lock-step asks of a device. argv: url
 */
import WebSocket from 'ws';

const ws = new WebSocket(process.argv[2]!, { perMessageDeflate: false });
ws.on('message', (d) => {
  const m = JSON.parse(d.toString()) as { type: string; t: number };
  if (m.type === 'end') {
    ws.close();
    return;
  }
  setImmediate(() => ws.send(JSON.stringify({ type: 'idle', next: m.t + 5000 })));
});
ws.on('close', () => process.exit(0));
