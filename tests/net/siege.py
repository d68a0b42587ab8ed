"""An attacker for the admission tests, run as its own OS process: idle connections to one
node from many loopback addresses, each opened again as soon as the node closes it.

    python siege.py HOST:PORT [--connections 300] [--sources 60]

It holds ``--connections`` connections that never send a byte, spread over ``--sources``
source addresses (127.0.0.2 and up), prints ``holding N`` once they are all open, and
runs until SIGTERM; then it prints one JSON line: connections opened and closed by the
node, in all.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal


class Siege:
    def __init__(self, host: str, port: int, connections: int, sources: int) -> None:
        self.host, self.port = host, port
        self.sources = [f"127.0.0.{2 + i % sources}" for i in range(connections)]
        self.opened = 0
        self.closed = 0
        self.holding = 0

    async def hold(self, source: str, ready: asyncio.Event) -> None:
        """One connection at a time from ``source``, forever: open it, say nothing, and
        open the next the moment the node closes it."""
        first = True
        while True:
            try:
                reader, writer = await asyncio.open_connection(
                    self.host, self.port, local_addr=(source, 0)
                )
            except OSError:
                await asyncio.sleep(0.01)  # the node's backlog is full: try again
                continue
            self.opened += 1
            if first:
                first = False
                self.holding += 1
                if self.holding == len(self.sources):
                    ready.set()
            try:
                while await reader.read(1 << 16):  # the node's hello; then its close
                    pass
            except OSError:
                pass
            self.closed += 1
            writer.close()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        ready = asyncio.Event()
        tasks = [asyncio.create_task(self.hold(source, ready)) for source in self.sources]
        await ready.wait()
        print(f"holding {len(self.sources)}", flush=True)
        await stop.wait()
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
        print(json.dumps({"opened": self.opened, "closed": self.closed}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("addr")
    parser.add_argument("--connections", type=int, default=300)
    parser.add_argument("--sources", type=int, default=60)
    args = parser.parse_args()
    host, _, port = args.addr.rpartition(":")
    asyncio.run(Siege(host, int(port), args.connections, args.sources).run())


if __name__ == "__main__":
    main()
