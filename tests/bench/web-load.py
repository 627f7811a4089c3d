"""Load for tests/bench/web: CLIENTS clients, each polling PATH every
INTERVAL seconds (on one keep-alive connection, or a new connection per
request when the server answers "Connection: close", the time to connect
counted in the latency) and (with --events) holding an event stream open,
for DURATION seconds. Prints one JSON line: requests,
errors, latency percentiles (ms), events received per stream (min, max)."""
import argparse
import asyncio
import json
import random
import time


async def poll(host, port, path, duration, interval, latencies, errors):
    await asyncio.sleep(random.random() * interval)  # spread the clients over the interval
    end = time.monotonic() + duration
    reader = writer = None
    request = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: application/json\r\n\r\n" % (path, host, port)).encode()
    try:
        while time.monotonic() < end:
            t0 = time.perf_counter()
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length, close = 0, head.startswith(b"HTTP/1.0")
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
                if line.lower().replace(b" ", b"") == b"connection:close":
                    close = True
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - t0)
            if close:
                writer.close()
                reader = writer = None
            if status != 200:
                errors.append(status)
            await asyncio.sleep(interval)
    except (OSError, asyncio.IncompleteReadError) as e:
        errors.append(str(e))
    finally:
        if writer:
            writer.close()


async def events(host, port, duration, counts, i):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(("GET /api/events HTTP/1.1\r\nHost: %s:%d\r\nAccept: text/event-stream\r\n\r\n"
                  % (host, port)).encode())
    counts[i] = 0
    try:
        async with asyncio.timeout(duration):
            while True:
                line = await reader.readline()
                if not line:
                    break
                if line.startswith(b"event: "):
                    counts[i] += 1
    except (TimeoutError, OSError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/api/jobs")
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--duration", type=float, default=20)
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--events", action="store_true")
    a = ap.parse_args()
    latencies, errors, counts = [], [], {}
    tasks = [poll("127.0.0.1", a.port, a.path, a.duration, a.interval, latencies, errors) for _ in range(a.clients)]
    if a.events:
        tasks += [events("127.0.0.1", a.port, a.duration + a.interval + 1, counts, i) for i in range(a.clients)]
    await asyncio.gather(*tasks)
    ms = [x * 1000 for x in latencies]
    print(json.dumps({
        "requests": len(latencies), "errors": len(errors), "first_errors": errors[:3],
        "p50": percentile(ms, 50), "p95": percentile(ms, 95), "p99": percentile(ms, 99),
        "streams": len(counts), "events_min": min(counts.values()) if counts else None,
        "events_max": max(counts.values()) if counts else None,
    }))


asyncio.run(main())
