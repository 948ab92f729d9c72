#!/usr/bin/env python3
"""gbhan bus reference client: a plain IEEE 802.15.4 radio on the gbhan radio bus (protocol v1).

It shows everything a device in another language needs to live on the bus
(packages/radio-bus/README.md, "Bus protocol, version 1"):

* register with ``hello`` and wait for ``welcome``;
* keep the lock-step: after handling each bus message (and sending whatever it causes), report
  ``idle`` with the next virtual time it wants to be woken at and ``seen``, the number of bus
  messages (every type but ``error``) taken so far;
* receive frames (``rx``) and acknowledge the ones addressed to its short address that ask for
  it, 192 us (aTurnaroundTime) after their last bit, with a real 802.15.4 ACK frame and FCS;
* optionally send a MAC data request to another short address every ``--period`` us of
  virtual time, and count the acknowledgements that come back.

It prints one JSON object per line on stdout: ``registered``, each ``ack-sent`` and
``acked``, and a ``summary`` when the bus closes. Standard library plus ``websockets``
(Debian: python3-websockets). Run: ``python3 gbhan_bus_client.py --bus ws://127.0.0.1:7454
--eui64 00124b0000b0d001 --channel 15 --short 0x0b01``.
"""

import argparse
import asyncio
import base64
import heapq
import json
import signal
import sys

import websockets

PROTOCOL_VERSION = 1
TURNAROUND_US = 192  # aTurnaroundTime at 2.4 GHz: 12 symbols of 16 us

FRAME_BEACON, FRAME_DATA, FRAME_ACK, FRAME_COMMAND = 0, 1, 2, 3


def crc16_kermit(data: bytes) -> int:
    """The 802.15.4 FCS: CRC-16 on the reflected CCITT polynomial, init 0."""
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc


def with_fcs(mhr_and_payload: bytes) -> bytes:
    return mhr_and_payload + crc16_kermit(mhr_and_payload).to_bytes(2, "little")


def ack_frame(seq: int) -> bytes:
    return with_fcs(bytes([0x02, 0x00, seq]))  # frame type ACK, no addresses


def data_request(seq: int, pan: int, dst: int, src: int) -> bytes:
    # MAC command, ack request, PAN ID compression, short destination and source addresses.
    fcf = FRAME_COMMAND | (1 << 5) | (1 << 6) | (2 << 10) | (2 << 14)
    mhr = fcf.to_bytes(2, "little") + bytes([seq]) + pan.to_bytes(2, "little")
    return with_fcs(mhr + dst.to_bytes(2, "little") + src.to_bytes(2, "little") + bytes([0x04]))


def parse_header(psdu: bytes):
    """Frame type, ack request, sequence number, destination short address (or None)."""
    if len(psdu) < 5 or crc16_kermit(psdu[:-2]) != int.from_bytes(psdu[-2:], "little"):
        return None  # too short, or damaged on the way
    fcf = int.from_bytes(psdu[0:2], "little")
    dst = None
    if (fcf >> 10) & 3 == 2 and len(psdu) >= 9:
        dst = int.from_bytes(psdu[5:7], "little")
    return fcf & 7, bool(fcf & (1 << 5)), psdu[2], dst


class Radio:
    def __init__(self, ws, args):
        self.ws = ws
        self.args = args
        self.now = 0
        self.seen = 0
        self.timers = []  # heap of (due_us, order, callback)
        self.order = 0
        self.tx_id = 0
        self.seq = int(args.eui64[-2:], 16)
        self.awaiting_ack = None
        self.stats = {"frames": 0, "acksSent": 0, "acked": 0, "txRefused": 0}

    def emit(self, **event):
        print(json.dumps({"t": self.now, **event}), flush=True)

    def at(self, due, callback):
        heapq.heappush(self.timers, (due, self.order, callback))
        self.order += 1

    async def send(self, msg):
        await self.ws.send(json.dumps(msg, separators=(",", ":")))

    async def transmit(self, psdu: bytes):
        self.tx_id += 1
        await self.send({"type": "tx", "id": self.tx_id, "psdu": base64.b64encode(psdu).decode()})

    async def send_data_request(self):
        self.seq = (self.seq + 1) & 0xFF
        self.awaiting_ack = self.seq
        await self.transmit(data_request(self.seq, self.args.pan, self.args.send_to, self.args.short))
        self.at(self.now + self.args.period, self.send_data_request)

    async def receive(self, psdu: bytes):
        self.stats["frames"] += 1
        header = parse_header(psdu)
        if header is None:
            return
        frame_type, ack_request, seq, dst = header
        if frame_type == FRAME_ACK:
            if seq == self.awaiting_ack:
                self.awaiting_ack = None
                self.stats["acked"] += 1
                self.emit(event="acked", seq=seq)
            return
        if ack_request and frame_type != FRAME_BEACON and dst == self.args.short:

            async def ack():
                await self.transmit(ack_frame(seq))
                self.stats["acksSent"] += 1
                self.emit(event="ack-sent", seq=seq)

            self.at(self.now + TURNAROUND_US, ack)

    async def handle(self, msg):
        kind = msg.get("type")
        if kind == "error":
            self.emit(event="error", code=msg.get("code"), message=msg.get("message"))
            return False
        self.seen += 1
        self.now = max(self.now, msg["t"])
        # Timers due up to this instant run first (the bus woke us for them, or a message came).
        while self.timers and self.timers[0][0] <= self.now:
            _, _, callback = heapq.heappop(self.timers)
            await callback()
        if kind == "rx":
            await self.receive(base64.b64decode(msg["psdu"]))
        elif kind == "tx-done" and msg["status"] != "sent":
            self.stats["txRefused"] += 1
        elif kind == "control":
            command = msg["command"].get("action")
            if command in ("power-on", "power-off"):
                await self.send({"type": "power", "on": command == "power-on"})
        # Everything this message caused is sent: report idle, with what we have seen.
        nxt = self.timers[0][0] if self.timers else None
        await self.send({"type": "idle", "next": nxt, "seen": self.seen})
        return True


async def leave(ws):
    try:
        await ws.send(json.dumps({"type": "bye"}))
    finally:
        await ws.close()


async def run(args) -> int:
    async with websockets.connect(args.bus, max_size=65536) as ws:
        radio = Radio(ws, args)
        # SIGTERM/SIGINT: leave cleanly (bye), so the summary below is still printed.
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(leave(ws)))
        hello = {
            "type": "hello",
            "version": PROTOCOL_VERSION,
            "eui64": args.eui64,
            "band": args.band,
            "page": args.page,
            "channel": args.channel,
            "position": {"x": args.x, "y": args.y},
            "name": args.name,
        }
        await radio.send(hello)
        first = json.loads(await ws.recv())
        if first.get("type") != "welcome":
            radio.emit(event="error", code=first.get("code"), message=first.get("message"))
            return 1
        radio.emit(event="registered", eui64=first["eui64"], version=first["version"])
        if args.send_to is not None:
            radio.at(first["t"] + args.start, radio.send_data_request)
        radio.seen = 0
        await radio.handle(first)
        try:
            async for text in ws:
                if not await radio.handle(json.loads(text)):
                    break
        except websockets.ConnectionClosed:
            pass
        radio.emit(event="summary", **radio.stats)
        return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bus", required=True, help="bus URL, ws://host:port")
    p.add_argument("--eui64", required=True, help="16 lowercase hex digits")
    p.add_argument("--band", default="2.4GHz", choices=["2.4GHz", "GB868"])
    p.add_argument("--page", type=int, default=0)
    p.add_argument("--channel", type=int, default=15)
    p.add_argument("--x", type=float, default=0.0)
    p.add_argument("--y", type=float, default=0.0)
    p.add_argument("--pan", type=lambda s: int(s, 0), default=0x0BAD)
    p.add_argument("--short", type=lambda s: int(s, 0), required=True, help="own short address")
    p.add_argument("--send-to", type=lambda s: int(s, 0), default=None, help="send data requests here")
    p.add_argument("--period", type=int, default=10_000_000, help="between data requests, virtual us")
    p.add_argument("--start", type=int, default=1_000_000, help="first data request, virtual us")
    p.add_argument("--name", default="python-client")
    args = p.parse_args()
    try:
        return asyncio.run(run(args))
    except (OSError, websockets.InvalidURI, websockets.InvalidHandshake) as e:
        print(json.dumps({"event": "error", "code": "CONNECT", "message": str(e)}), flush=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())
