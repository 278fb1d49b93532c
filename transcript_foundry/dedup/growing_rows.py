"""A NumPy matrix that grows by appended rows in amortised O(rows added) (capacity doubles when full)."""

from __future__ import annotations

import numpy as np


class GrowingRows:
    def __init__(self) -> None:
        self._data: np.ndarray | None = None
        self._rows = 0

    def __len__(self) -> int:
        return self._rows

    def append(self, rows: np.ndarray) -> None:
        if self._data is None:
            self._data = np.empty((max(1024, rows.shape[0]), *rows.shape[1:]), dtype=rows.dtype)
        needed = self._rows + rows.shape[0]
        if needed > self._data.shape[0]:
            grown = np.empty(
                (max(needed, 2 * self._data.shape[0]), *self._data.shape[1:]), dtype=self._data.dtype
            )
            grown[: self._rows] = self._data[: self._rows]
            self._data = grown
        self._data[self._rows : needed] = rows
        self._rows = needed

    @property
    def view(self) -> np.ndarray | None:
        """The rows so far (a view: valid until the next append); None before the first append."""
        return None if self._data is None else self._data[: self._rows]
