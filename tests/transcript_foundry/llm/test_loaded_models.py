"""Models kept loaded in the process: loaded once per key, shared with their lock, freed on release."""

from __future__ import annotations

from transcript_foundry.llm.loaded_models import LoadedModels, ModelKey


class Closable:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_one_load_per_key_and_release_closes_each_model() -> None:
    models = LoadedModels()
    loads: list[Closable] = []

    def load() -> Closable:
        loads.append(Closable())
        return loads[-1]

    a = ModelKey("/m.gguf", 4096, 2)
    first = models.get(a, load)
    again = models.get(a, load)
    other = models.get(ModelKey("/m.gguf", 8192, 2), load)
    assert first is again and first.lock is again.lock
    assert other is not first
    assert len(loads) == 2
    assert set(models.loaded()) == {a, ModelKey("/m.gguf", 8192, 2)}
    models.release_all()
    assert all(m.closed for m in loads)
    assert models.loaded() == []
    assert models.get(a, load).llm is loads[-1] and len(loads) == 3  # loads again after a release
