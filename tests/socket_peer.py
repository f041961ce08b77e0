"""Slack's Socket Mode end, for tests: a minimal WebSocket server (RFC 6455, text frames, ping/pong, close)
that sends envelopes to the connected app and collects the app's acknowledgements."""
from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
from typing import Any

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class SocketPeer:
    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"ws://127.0.0.1:{self._listener.getsockname()[1]}/link"
        self._conn: socket.socket | None = None
        self._cond = threading.Condition()
        self._acks: dict[str, dict[str, Any]] = {}
        self._send_lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    # -- what tests use -------------------------------------------------------------------------------------------
    def wait_connected(self, timeout: float = 30.0) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._conn is not None, timeout):
                raise AssertionError("the app never connected over Socket Mode")

    def send(self, envelope: dict[str, Any]) -> None:
        self._frame(0x1, json.dumps(envelope).encode())

    def ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self._acks, timeout):
                raise AssertionError(f"no acknowledgement for {envelope_id}")
            return self._acks[envelope_id]

    def close(self) -> None:
        for s in (self._conn, self._listener):
            try:
                if s:
                    s.close()
            except OSError:
                pass

    # -- the protocol ---------------------------------------------------------------------------------------------
    def _accept(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except OSError:
            return
        request = b""
        while b"\r\n\r\n" not in request:
            request += conn.recv(4096)
        key = next(line.split(":", 1)[1].strip() for line in request.decode().split("\r\n")
                   if line.lower().startswith("sec-websocket-key:"))
        accept = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()
        conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())
        with self._cond:
            self._conn = conn
            self._cond.notify_all()
        self.send({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0LIAISON"},
                   "debug_info": {"host": "test-peer"}})
        self._read(conn)

    def _read(self, conn: socket.socket) -> None:
        buffer = b""

        def take(n: int) -> bytes:
            nonlocal buffer
            while len(buffer) < n:
                chunk = conn.recv(65536)
                if not chunk:
                    raise ConnectionError
                buffer += chunk
            data, buffer = buffer[:n], buffer[n:]
            return data

        try:
            while True:
                first, second = take(2)
                opcode, length = first & 0x0F, second & 0x7F
                if length == 126:
                    length = struct.unpack("!H", take(2))[0]
                elif length == 127:
                    length = struct.unpack("!Q", take(8))[0]
                mask = take(4) if second & 0x80 else b"\0\0\0\0"
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(take(length)))
                if opcode == 0x1:
                    message = json.loads(data)
                    if "envelope_id" in message:
                        with self._cond:
                            self._acks[message["envelope_id"]] = message.get("payload") or {}
                            self._cond.notify_all()
                elif opcode == 0x9:
                    self._frame(0xA, data)
                elif opcode == 0x8:
                    return
        except (ConnectionError, OSError):
            return

    def _frame(self, opcode: int, data: bytes) -> None:
        header = bytes([0x80 | opcode])
        if len(data) < 126:
            header += bytes([len(data)])
        elif len(data) < 65536:
            header += bytes([126]) + struct.pack("!H", len(data))
        else:
            header += bytes([127]) + struct.pack("!Q", len(data))
        assert self._conn is not None
        with self._send_lock:
            self._conn.sendall(header + data)
