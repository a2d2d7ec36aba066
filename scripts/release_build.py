"""Build every package's sdist and wheel into ``dist/`` at the top of the repository (``hatch run release:build``).

Each wheel is built from its package's sdist (``python -m build``), so the sdists are proven to build alone.
The router's wheel carries the compiled C matcher (``TACHYON_ROUTER_REQUIRE_NATIVE=1``: a failed C build
is an error here, never a silently pure wheel); on Linux it is then repaired by auditwheel into a manylinux
wheel, the only kind of Linux binary wheel PyPI accepts. ``dist/`` is emptied first.

    python scripts/release_build.py [--dist DIR] [--no-repair]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Dependencies first: the order in which they would be published.
PACKAGES = ("tachyon-router", "tachyon-http", "tachyon-ws", "tachyon-testclient", "tachyon")


def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True, env=env)


def build_all(dist: Path, *, repair: bool) -> list[Path]:
    if dist.exists():
        shutil.rmtree(dist)
    dist.mkdir(parents=True)
    env = {**os.environ, "TACHYON_ROUTER_REQUIRE_NATIVE": "1"}
    with tempfile.TemporaryDirectory(prefix="tachyon-release-") as tmp:
        raw = Path(tmp)
        for package in PACKAGES:
            _run([sys.executable, "-m", "build", "--outdir", str(raw), str(REPO / "packages" / package)], env=env)
        for artefact in sorted(raw.iterdir()):
            if artefact.name.endswith("-none-any.whl") or artefact.suffix != ".whl":
                shutil.copy2(artefact, dist / artefact.name)
            elif repair and sys.platform.startswith("linux"):
                _run([sys.executable, "-m", "auditwheel", "repair", "--wheel-dir", str(dist), str(artefact)])
            else:
                shutil.copy2(artefact, dist / artefact.name)
    produced = sorted(dist.iterdir())
    wheels = [path for path in produced if path.suffix == ".whl"]
    sdists = [path for path in produced if path.name.endswith(".tar.gz")]
    if len(wheels) != len(PACKAGES) or len(sdists) != len(PACKAGES):
        raise SystemExit(f"expected one sdist and one wheel per package in {dist}, got {[p.name for p in produced]}")
    return produced


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dist", type=Path, default=REPO / "dist", help="output folder (default: dist/)")
    parser.add_argument("--no-repair", action="store_true", help="keep the platform wheel as built (no auditwheel)")
    args = parser.parse_args(argv)
    for path in build_all(args.dist.resolve(), repair=not args.no_repair):
        print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
