"""How long a writer waits for SQLite's write lock that another process holds for a fraction of a millisecond.

Why the acks on SQLite stay above 1.5x the floor while the job runner writes beside them: another process holds
the one write lock for 0.3 ms after this one asks for it; how long does this one's `BEGIN IMMEDIATE` take? With
Python's `sqlite3` (the driver SQLAlchemy uses) the only way to wait is SQLite's own busy handler
(`busy_timeout`), which sleeps 1 ms, then 2 ms, then 5 ms..., so a 0.3 ms lock costs a whole millisecond or more.

    .venv/bin/python bench/sqlite_lock_wait.py
    .venv/bin/python bench/sqlite_lock_wait.py --apsw      # also with apsw, if installed (not a dependency)

apsw's SQLite is built with SQLITE_ENABLE_SETLK_TIMEOUT (blocking locks); it is measured for comparison only.
Times in ms.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sqlite3
import tempfile
import time
from typing import Any

HOLD = 0.0003  # seconds the other process keeps the lock after this one starts waiting


def _connect(driver: str, path: str, timeout: float = 5.0) -> Any:
    if driver == "apsw":
        import apsw

        conn = apsw.Connection(path)
        conn.set_busy_timeout(int(timeout * 1000))
        return conn
    return sqlite3.connect(path, isolation_level=None, timeout=timeout)


def _hold(path: str, driver: str, ready: Any, go: Any) -> None:
    conn = _connect(driver, path)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO t VALUES (1)")
    ready.set()
    go.wait()
    time.sleep(HOLD)
    conn.execute("COMMIT")


def measure(path: str, driver: str, rounds: int) -> list[float]:
    waits = []
    for _ in range(rounds):
        ready, go = mp.Event(), mp.Event()
        holder = mp.Process(target=_hold, args=(path, driver, ready, go))
        holder.start()
        ready.wait()
        conn = _connect(driver, path)
        go.set()
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        waits.append((time.perf_counter() - start) * 1000)
        conn.execute("COMMIT")
        conn.close()
        holder.join()
    return sorted(waits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--apsw", action="store_true", help="also measure apsw's SQLite (pip install apsw)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="liaison-lockwait-") as workdir:
        path = os.path.join(workdir, "lock.db")
        setup = sqlite3.connect(path)
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE t (x)")
        setup.commit()
        setup.close()
        print("| driver | SQLite | lock held | wait p50 | p90 | p99 |\n|---|---|---|---|---|---|")
        for driver in ("sqlite3", "apsw") if args.apsw else ("sqlite3",):
            version = sqlite3.sqlite_version
            if driver == "apsw":
                import apsw

                version = apsw.sqlite_lib_version()
            w = measure(path, driver, args.rounds)
            print(f"| {driver} | {version} | {HOLD * 1000:.1f} | {w[len(w) // 2]:.2f} | {w[int(len(w) * 0.9)]:.2f} | "
                  f"{w[min(len(w) - 1, int(len(w) * 0.99))]:.2f} |", flush=True)


if __name__ == "__main__":
    main()
