"""What a benchmark cell costs: peak memory while it runs, and the machine it ran on."""

from __future__ import annotations

import math
import os
import platform
import resource
import threading


class PeakMemory:
    """Peak resident memory of this process while the block runs (MiB).

    ru_maxrss is a lifetime high-water mark, so a later cell that uses less than an earlier
    one would show nothing; a sampling thread reads /proc/self/statm every `interval` s
    instead (Linux), with ru_maxrss as the fallback elsewhere.
    """

    def __init__(self, interval: float = 0.05):
        self.interval = interval
        self.baseline_mb = math.nan
        self.peak_mb = math.nan
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def _rss_mb() -> float:
        try:
            with open("/proc/self/statm") as handle:
                pages = int(handle.read().split()[1])
            return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
        except (OSError, ValueError):
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak_mb = max(self.peak_mb, self._rss_mb())

    def __enter__(self) -> "PeakMemory":
        self.baseline_mb = self.peak_mb = self._rss_mb()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak_mb = max(self.peak_mb, self._rss_mb())

    @property
    def delta_mb(self) -> float:
        return self.peak_mb - self.baseline_mb


def environment() -> dict:
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}
