"""genepheno_core.benchmark.resources: peak-memory sampling."""

from genepheno_core.benchmark.resources import PeakMemory


def test_peak_memory_tracks_the_high_water_mark(monkeypatch):
    # RSS readings 100, 180 (peak while the block runs), 120 at exit: peak 180, delta 80.
    # (A real allocation is not used: pages freed by earlier tests may be reused by the
    # allocator without any RSS growth, which made such a test flaky.)
    import time

    readings = iter([100.0, 180.0] + [120.0] * 10_000)
    monkeypatch.setattr(PeakMemory, "_rss_mb", staticmethod(lambda: next(readings)))
    with PeakMemory(interval=0.001) as mem:
        time.sleep(0.05)
    assert mem.baseline_mb == 100.0 and mem.peak_mb == 180.0 and mem.delta_mb == 80.0


def test_rss_reading_is_plausible():
    rss = PeakMemory._rss_mb()
    assert 10 < rss < 100_000
