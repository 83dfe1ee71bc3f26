"""Progress of an ensemble: runs done, rate and time left, on stderr."""

from __future__ import annotations

import sys
import time

__all__ = ["Progress"]


class Progress:
    """Runs done, rate and ETA: a tqdm bar on a terminal, else a plain line every ``interval`` s."""

    def __init__(self, total: int, done: int = 0, enabled: bool = True, stream=None, interval: float = 5.0) -> None:
        self.total = total
        self.done = done
        self.session = 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.interval = interval
        self.started = time.monotonic()
        self._last = self.started
        self._bar = None
        if enabled and getattr(self.stream, "isatty", lambda: False)():
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=done, unit="run", file=self.stream, dynamic_ncols=True,
                             smoothing=0.05)

    def update(self, n: int = 1) -> None:
        """Count ``n`` more runs done."""
        self.done += n
        self.session += n
        if self._bar is not None:
            self._bar.update(n)
        elif self.enabled and time.monotonic() - self._last >= self.interval:
            self._print()

    def line(self) -> str:
        """``[ 40/200] 20 % 3.1 runs/s ETA 52 s``"""
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.session / elapsed
        remaining = self.total - self.done
        eta = f"ETA {_duration(remaining / rate)}" if rate > 0 and remaining > 0 else (
            f"done in {_duration(elapsed)}" if remaining == 0 else "ETA ?")
        width = len(str(self.total))
        percent = 100 * self.done / self.total if self.total else 100
        return f"[{self.done:>{width}}/{self.total}] {percent:.0f} % {rate:.1f} runs/s {eta}"

    def _print(self) -> None:
        self._last = time.monotonic()
        print(self.line(), file=self.stream, flush=True)

    def close(self) -> None:
        """Finish the bar (or print a last line)."""
        if self._bar is not None:
            self._bar.close()
        elif self.enabled:
            self._print()


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
