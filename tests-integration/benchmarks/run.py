"""Run the whole benchmark suite — in-process, micro-benchmarks, over HTTP — then render the report.

    python tests-integration/benchmarks/run.py [--quick] [--skip-http]

Each part runs in its own process so that one framework's imports never warm the other's.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer rounds and shorter runs (a smoke check)")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-instructions", action="store_true", help="skip the callgrind count (~3 min)")
    args = parser.parse_args()
    rounds = ["--rounds", "2"] if args.quick else []
    steps = [
        [sys.executable, str(HERE / "bench_inprocess.py"), *rounds] + (["--target-ms", "15"] if args.quick else []),
        [sys.executable, str(HERE / "bench_micro.py"), *rounds],
    ]
    if not args.skip_http:
        steps.append(
            [sys.executable, str(HERE / "bench_http.py")] + (["--rounds", "1", "--duration", "1"] if args.quick else [])
        )
    if not args.skip_instructions:
        steps.append(
            [sys.executable, str(HERE / "bench_instructions.py")] + (["--requests", "300"] if args.quick else [])
        )
    steps.append([sys.executable, str(HERE / "report.py")])
    for step in steps:
        print("$", " ".join(Path(part).name if part.endswith(".py") else part for part in step[1:]), flush=True)
        subprocess.run(step, check=True)


if __name__ == "__main__":
    main()
