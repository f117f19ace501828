"""importdists' progress on stderr: a bar redrawn in place on a terminal
(files done/total, files/s, ETA), else one plain line every few seconds (a log
or a pipe should not fill with carriage returns)."""

import time

BAR_WIDTH = 30
# A terminal is redrawn at most this often: drawing every file of a fast import
# would cost more than the import of some of them.
REDRAW_SECONDS = 0.1


def format_duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """``update(done)`` after each file; ``clear()`` before printing a line on the
    same terminal; ``finish()`` at the end. ``every``: seconds between plain lines
    when the stream is not a terminal (0 or less: none)."""

    def __init__(self, stream, total: int, *, enabled: bool = True, every: float = 10.0,
                 clock=time.monotonic):
        self.stream = stream
        self.total = total
        self.clock = clock
        self.started = clock()
        self.tty = enabled and total > 0 and hasattr(stream, "isatty") and stream.isatty()
        self.every = every if enabled and not self.tty and total > 0 else 0
        self._last_draw = float("-inf")
        self._last_line = self.started
        self._drawn = False

    def rate_and_eta(self, done: int) -> tuple[float, float]:
        elapsed = max(self.clock() - self.started, 1e-9)
        rate = done / elapsed
        eta = (self.total - done) / rate if rate > 0 else 0.0
        return rate, eta

    def describe(self, done: int) -> str:
        rate, eta = self.rate_and_eta(done)
        return f"{done}/{self.total} {rate:.1f} files/s ETA {format_duration(eta)}"

    def update(self, done: int) -> None:
        now = self.clock()
        if self.tty:
            if done < self.total and now - self._last_draw < REDRAW_SECONDS:
                return
            self._last_draw = now
            filled = BAR_WIDTH * done // self.total
            bar = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}]"
            self.stream.write(f"\r\033[K{bar} {self.describe(done)}")
            self.stream.flush()
            self._drawn = True
        elif self.every > 0 and now - self._last_line >= self.every:
            self._last_line = now
            self.stream.write(f"importdists: {self.describe(done)}\n")
            self.stream.flush()

    def clear(self) -> None:
        """Erase the bar so that a message can be printed on a clean line."""
        if self.tty and self._drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._last_draw = float("-inf")  # redrawn at the next update

    def finish(self) -> None:
        if self.tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
