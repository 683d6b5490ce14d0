"""A stand-in eval suite for the CI example: prints progress, writes one NDJSON event per case.

    python eval.py RESULTS.ndjson

Exits 1 when a case fails, like a real test runner, so the CI job (and
`agentlog run`, which keeps the exit code) fails too.
"""

from __future__ import annotations

import json
import sys
import time

CASES = [
    ("refund_policy", "What is the refund window?", "30 days", "30 days"),
    ("shipping_eu", "Do you ship to Spain?", "yes", "yes"),
    ("order_status", "Where is order 1042?", "arriving Friday", "unknown order"),
]


def main() -> int:
    out_path = sys.argv[1]
    failed = 0
    with open(out_path, "w", encoding="utf-8") as out:
        for name, question, expected, got in CASES:
            t0 = time.perf_counter()
            ok = got == expected
            failed += not ok
            print(f"{'PASS' if ok else 'FAIL'} {name}")
            event = {
                "type": "TOOL_RESULT" if ok else "ERROR",
                "name": name,
                "content": json.dumps({"question": question, "expected": expected, "got": got}),
                "status": "ok" if ok else "error",
                "duration_ms": (time.perf_counter() - t0) * 1000,
                "metadata": {"suite": "smoke"},
            }
            out.write(json.dumps(event) + "\n")
    print(f"{len(CASES) - failed} of {len(CASES)} cases passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
