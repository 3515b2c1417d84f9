#!/usr/bin/env python3
"""Inference smoke test: tokens/s and p95 latency as one JSON line, through the server's own API.

Usage: inference_smoke.py vllm|triton URL MODEL REQUESTS MAX_TOKENS PROMPT
vllm: OpenAI-compatible POST /v1/completions (tokens from `usage.completion_tokens`).
triton: Triton's generate extension POST /v2/models/MODEL/generate ({"text_input", "parameters": {"max_tokens"}});
it returns text only, so tokens are counted as the requested max_tokens, an upper bound stated in the output.
An API key, when set, comes from RACKCTL_SERVING_API_KEY (never the command line) as a bearer token.
"""

import json
import os
import sys
import time
import urllib.error
import urllib.request


def post(url: str, body: dict) -> dict:
    headers = {"Content-Type": "application/json"}
    key = os.environ.get("RACKCTL_SERVING_API_KEY", "")
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(url, json.dumps(body).encode(), headers)
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.load(response)


def complete(runtime: str, url: str, model: str, max_tokens: int, prompt: str) -> tuple[int, float]:
    started = time.monotonic()
    if runtime == "triton":
        answer = post(f"{url}/v2/models/{model}/generate",
                      {"text_input": prompt, "parameters": {"max_tokens": max_tokens, "temperature": 0}})
        if "text_output" not in answer:
            raise ValueError(f"no text_output in Triton's answer: {answer}")
        return max_tokens, time.monotonic() - started
    answer = post(url + "/v1/completions", {"model": model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0})
    return int(answer["usage"]["completion_tokens"]), time.monotonic() - started


def main() -> int:
    runtime, url, model = sys.argv[1], sys.argv[2], sys.argv[3]
    requests, max_tokens, prompt = int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
    try:
        complete(runtime, url, model, 8, prompt)  # warm-up, not measured
        started = time.monotonic()
        results = [complete(runtime, url, model, max_tokens, prompt) for _ in range(requests)]
        elapsed = time.monotonic() - started
    except (urllib.error.URLError, OSError, KeyError, ValueError) as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        return 1
    latencies = sorted(seconds * 1000 for _, seconds in results)
    p95 = latencies[min(len(latencies) - 1, int(round(0.95 * len(latencies))) - 1)]
    tokens = sum(count for count, _ in results)
    print(json.dumps({"api": runtime, "requests": requests, "tokens": tokens, "tokens_per_s": round(tokens / elapsed, 1),
                      "p95_latency_ms": round(p95, 1), "tokens_counted": "usage" if runtime == "vllm" else "max_tokens"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
