#!/usr/bin/env python3
"""Inference smoke test against an OpenAI-compatible server: tokens/s and p95 latency as one JSON line.

Usage: inference_smoke.py URL MODEL REQUESTS MAX_TOKENS PROMPT
"""

import json
import sys
import time
import urllib.error
import urllib.request


def complete(url: str, model: str, max_tokens: int, prompt: str) -> tuple[int, float]:
    body = json.dumps({"model": model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0}).encode()
    request = urllib.request.Request(url + "/v1/completions", body, {"Content-Type": "application/json"})
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=300) as response:
        answer = json.load(response)
    return int(answer["usage"]["completion_tokens"]), time.monotonic() - started


def main() -> int:
    url, model, requests, max_tokens, prompt = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    try:
        complete(url, model, 8, prompt)  # warm-up, not measured
        started = time.monotonic()
        results = [complete(url, model, max_tokens, prompt) for _ in range(requests)]
        elapsed = time.monotonic() - started
    except (urllib.error.URLError, OSError, KeyError, ValueError) as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        return 1
    latencies = sorted(seconds * 1000 for _, seconds in results)
    p95 = latencies[min(len(latencies) - 1, int(round(0.95 * len(latencies))) - 1)]
    tokens = sum(count for count, _ in results)
    print(json.dumps({"requests": requests, "tokens": tokens, "tokens_per_s": round(tokens / elapsed, 1),
                      "p95_latency_ms": round(p95, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
