"""Summarise py-spy's raw (collapsed-stack) profiles: the functions holding most samples.

    python bench/flame.py /tmp/prof/browse@10k-api.txt [--top 20] [--only app/]

`self` is the share of samples a function was running itself; `inclusive` the share it was
on the stack at all (itself or anything it called). Line numbers are dropped, so one
function is one row.
"""

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<name>.*?) \((?P<file>[^():]*)(?::\d+)?\)$")
_TRIM = ("site-packages/", "lib/python3.11/", "/work/", "wt/bench/")


def _where(path: str) -> str:
    for marker in ("site-packages/", "lib/python3.11/"):
        if marker in path:
            return path.split(marker, 1)[1]
    for marker in ("/app/", "/bench/", "/tests/"):
        if marker in path:
            return marker[1:] + path.split(marker, 1)[1]
    return path


def frame_key(frame: str) -> str:
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    return f"{match['name']} ({_where(match['file'])})"


def load(path: Path) -> tuple[Counter[str], Counter[str], int]:
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        frames = [frame_key(frame) for frame in stack.split(";")]
        frames = [f for f in frames if not f.startswith(("process ", "thread "))] or frames
        total += samples
        own[frames[-1]] += samples
        for key in set(frames):
            inclusive[key] += samples
    return own, inclusive, total


def summary(path: Path, top: int = 20, only: str | None = None) -> str:
    own, inclusive, total = load(path)
    if not total:
        return f"{path.name}: no samples"
    lines = [f"{path.name}: {total} samples"]
    for title, counter in (("self", own), ("inclusive", inclusive)):
        lines.append(f"  top {title}:")
        shown = 0
        for key, samples in counter.most_common():
            if only and only not in key:
                continue
            lines.append(f"    {samples * 100 / total:5.1f}%  {key}")
            shown += 1
            if shown >= top:
                break
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--only", help="only functions whose file/name contains this")
    args = parser.parse_args()
    for path in args.files:
        print(summary(path, args.top, args.only))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
