"""Run benchmarks and write their figures to benchmarks/results.md.

python -m benchmarks            # all, full sizes
python -m benchmarks --quick    # small sizes, for a smoke run
python -m benchmarks reconcile  # only the named ones; other sections are kept
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import pkgutil
import platform
import re
from pathlib import Path

import benchmarks

RESULTS = Path(__file__).with_name("results.md")
MARK = "<!-- bench:{} -->"
HEADER = (
    "# launchsync benchmarks\n\nEach section names the command that made it. All: `./dev bench`.\n"
)


def main() -> None:
    """Run the chosen benchmarks and rewrite their sections of results.md."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    args = parser.parse_args()
    found = sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules(benchmarks.__path__)
        if m.name.startswith("bench_")
    )
    for name in args.names or found:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        print(f"running {name} ...", flush=True)
        write_section(name, module.run(args.quick))


def write_section(name: str, text: str) -> None:
    """Rewrite one benchmark's section of results.md (stamped), keeping the others."""
    sections = _existing_sections()
    stamp = (
        f"_Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{len(os.sched_getaffinity(0))} cores._\n"
    )
    sections[name] = f"{MARK.format(name)}\n{text}\n{stamp}"
    body = "\n".join(sections[name] for name in sorted(sections))
    RESULTS.write_text(f"{HEADER}\n{body}", encoding="utf-8")
    print(f"wrote {RESULTS}")


def _existing_sections() -> dict[str, str]:
    """Sections of results.md by benchmark name, so a partial run keeps the others."""
    if not RESULTS.exists():
        return {}
    found = {}
    for part in re.split(r"(?m)^(?=<!-- bench:)", RESULTS.read_text(encoding="utf-8")):
        match = re.match(r"<!-- bench:(\w+) -->", part)
        if match:
            found[match.group(1)] = part.rstrip() + "\n"
    return found


if __name__ == "__main__":
    main()
