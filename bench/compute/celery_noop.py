"""The Celery peer of bench/compute: the same no-op job, on the same Redis, submitted and awaited.

Run as a worker:  python3 -m celery -A celery_noop worker ...
Run as a client:  python3 celery_noop.py <jobs> <window>  (prints one JSON line)
"""
import json
import os
import sys
import time

from celery import Celery

BROKER = os.environ["BENCH_CELERY_BROKER"]
QUEUE = os.environ["BENCH_CELERY_QUEUE"]

app = Celery("celery_noop", broker=BROKER, backend=BROKER)
app.conf.update(
    task_default_queue=QUEUE,
    # The result is stored, as DataLab stores each job's result and state.
    task_ignore_result=False,
    result_expires=600,
    worker_prefetch_multiplier=int(os.environ.get("BENCH_CELERY_PREFETCH", "64")),
    broker_connection_retry_on_startup=True,
)


@app.task(name="noop")
def noop():
    return {"slept_ms": 0}


# Every POLL_S the oldest CHECK pending tasks are looked up, as bench/compute/ours.ts does.
POLL_S = 0.010
CHECK = 100


def run(jobs, window):
    """Submits `jobs` no-ops, keeping at most `window` unfinished, and waits for every result."""
    redis = app.backend.client
    started = time.perf_counter()
    pending = []
    submitted = 0
    done = 0
    while done < jobs:
        while submitted < jobs and len(pending) < window:
            pending.append(noop.apply_async().id)
            submitted += 1
        pipe = redis.pipeline(transaction=False)
        for task_id in pending[:CHECK]:
            pipe.exists(app.backend.get_key_for_task(task_id))
        finished = set(task_id for task_id, ok in zip(pending, pipe.execute()) if ok)
        done += len(finished)
        pending = [task_id for task_id in pending if task_id not in finished]
        if done < jobs:
            time.sleep(POLL_S)
    elapsed = time.perf_counter() - started
    return {"jobs": jobs, "seconds": elapsed, "jobs_per_s": jobs / elapsed}


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]), int(sys.argv[2]))))
