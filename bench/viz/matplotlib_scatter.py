"""The peer: the same 1,000-point scatter drawn by matplotlib (Agg) to PNG, timed per render.

Usage: python3 matplotlib_scatter.py <renders> <warmup>; prints one JSON line.
"""
import io
import json
import sys
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

POINTS, WIDTH, HEIGHT, DPI = 1000, 640, 480, 100
xs = [(i * 7919) % 997 for i in range(POINTS)]
ys = [((i * 104729) % 499) + (i % 7) * 20 for i in range(POINTS)]


def render() -> bytes:
    fig = plt.figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI)
    ax = fig.add_subplot()
    ax.scatter(xs, ys, s=30, facecolors="none", edgecolors="#4c78a8")
    ax.set_title("1,000 points")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.grid(True, color="#ddd")
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)
    plt.close(fig)
    return out.getvalue()


renders, warmup = int(sys.argv[1]), int(sys.argv[2])
for _ in range(warmup):
    render()
times, size = [], 0
for _ in range(renders):
    start = time.perf_counter()
    size = len(render())
    times.append((time.perf_counter() - start) * 1000)
print(json.dumps({"times_ms": times, "png_bytes": size, "matplotlib": matplotlib.__version__}))
