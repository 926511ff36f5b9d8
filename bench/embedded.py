"""Benchmarks 3 and 4: the seed briefing on the embedded model from a cold cache.

Method: a fresh reply cache, the default settings (embedded model, one call at a time, all
cores), ``brief`` on the seed articles in-process; the model server's start is included in
the wall time. Tokens per stage come from the server's own usage counts. The model's own
compute time is the sum, over the run's calls, of the prompt evaluation and generation times
the server logs for each (llama.cpp's timings; with llama-server they include its sampling).
The cleaned articles (the kept sentences) are tokenized with the model's own tokenizer, and so
is a naive baseline that sends every cleaned article in one prompt. Needs ``newsbrief[local]``.

    python -m bench.embedded [ENGINE ...]    # llama-cpp-python (default), llama-server
"""

import re
import sys
import tempfile
import time
from pathlib import Path

from llama_cpp import Llama

from bench.common import SEEDS
from service import brief
from service.clean import clean
from service.ingest import ingest
from service.local_model import LOG, ensure_weights
from service.settings import Settings, default_cache_dir


def cleaned_tokens() -> tuple[int, int]:
    """Tokens of the cleaned seed articles, separately and as one naive prompt."""
    vocab = Llama(
        model_path=str(ensure_weights(default_cache_dir())), vocab_only=True, verbose=False
    )
    articles = clean(ingest([SEEDS]).articles)
    texts = ["\n".join(s.text for s in a.kept) for a in articles]
    separate = sum(len(vocab.tokenize(t.encode(), add_bos=False)) for t in texts)
    naive = len(vocab.tokenize("\n\n".join(texts).encode(), add_bos=False))
    return separate, naive


TIMING = re.compile(r"(prompt eval|\beval) time =\s*([\d.]+) ms")


def compute_seconds(log: Path) -> float:
    """Seconds the model spent evaluating prompts and generating, from its server's log."""
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return sum(float(ms) for _, ms in TIMING.findall(text)) / 1000


def main() -> None:
    separate, naive = cleaned_tokens()
    for engine in sys.argv[1:] or ["llama-cpp-python"]:
        run(engine, separate, naive)


def run(engine: str, separate: int, naive: int) -> None:
    cache = Path(tempfile.mkdtemp(prefix="newsbrief-bench-"))
    settings = Settings(cache_dir=cache, local_engine=engine)
    started = time.perf_counter()
    briefing = brief([SEEDS], settings=settings)
    wall = time.perf_counter() - started
    usage = briefing.usage
    compute = compute_seconds(cache / LOG)
    print(f"benchmarks 3 and 4: seed briefing, embedded model ({engine}), cold cache")
    skipped = len(briefing.skipped)
    print(f"  wall time: {wall:.1f} s (target <= 90 s), {usage.calls} calls, {skipped} skipped")
    ratio = wall / compute if compute else float("nan")
    print(f"  model compute (server log): {compute:.1f} s; wall / compute {ratio:.2f}x")
    print(f"  prompt tokens / cleaned-article tokens: {usage.prompt_tokens / separate:.2f}x")
    print(f"  prompt tokens: {usage.prompt_tokens:,}; cleaned articles: {separate:,} tokens")
    print(f"  naive one-prompt baseline: {naive:,} article tokens in a single call")
    for stage, figures in usage.stages.items():
        calls = max(figures.calls, 1)
        rate = figures.completion_tokens / figures.seconds if figures.seconds else 0.0
        print(
            f"  {stage:<10} {figures.calls} calls, prompt {figures.prompt_tokens:,} "
            f"(~{figures.prompt_tokens // calls} per call), "
            f"completion {figures.completion_tokens:,} "
            f"(~{figures.completion_tokens // calls} per call), {figures.seconds:.1f} s, "
            f"{rate:.1f} completion tokens/s"
        )


if __name__ == "__main__":
    main()
