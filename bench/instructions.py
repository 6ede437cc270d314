"""Where the instructions of (a) parse + read go: Rust core, binding, CPython, allocators.

Not a test: prints a table. Needs valgrind (``apt-get install valgrind``) and the release
build (``maturin develop --release``). Run from the repository root:

    python bench/instructions.py

Instruction counts are deterministic, unlike timings on a shared machine. Each workload of
``bench/parse.py`` (a) runs under callgrind twice, N and 2N times; the difference divided by
N is the cost of one iteration, start-up excluded. Three messages:

- full: the 15-header benchmark INVITE;
- seven: the same INVITE with only the seven headers (a) reads, which is what typing only
  the headers read ("perfect laziness") would cost at best;
- shell: start line, Content-Length and body only: the message object, its start line and
  URI, the headers dict, the body, the call and the reads.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

N = 2_000  # iterations of the smaller run; bounded, each run takes a few seconds

WORKLOAD = """
import sys
sys.path.insert(0, {bench!r})
from parse import FLOORS, INVITE
from sippet import Message
data = {{"full": INVITE,
        "seven": FLOORS["only the 7 read headers on the wire"],
        "shell": FLOORS["start line + Content-Length only"]}}[sys.argv[1]]
for _ in range(int(sys.argv[2])):
    h = Message.parse(data).headers
    get = h.get
    (get("via"), get("from"), get("to"), get("cseq"), get("call_id"), get("contact"),
     get("max_forwards"))
"""

CATEGORIES = ("Rust core", "Rust binding", "Rust allocator", "CPython", "libc")


def category(function: str) -> str:
    if "_native::py" in function or "pyo3" in function:
        return "Rust binding"
    if "_native::core" in function or "core::" in function or "alloc::" in function:
        return "Rust core"
    if re.search(r"\b_?mi_", function) or "mimalloc" in function:
        return "Rust allocator"
    if function.startswith(("malloc.c", "memmove", "memset", "memcmp", "strlen", "memchr")):
        return "libc"
    return "CPython"


def per_function(out_file: Path) -> dict[str, int]:
    text = subprocess.run(
        ["callgrind_annotate", "--threshold=100", str(out_file)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    counts: dict[str, int] = {}
    for line in text.splitlines():
        match = re.match(r"\s*([\d,]+) \([^)]*\)\s+(.*)", line)
        if not match or "PROGRAM TOTALS" in line:
            continue
        name = match.group(2).split(" [")[0]
        if ":" in name:  # "path/file.c:function" -> "file.c:function"
            path, function = name.split(":", 1)
            name = f"{path.rsplit('/', 1)[-1]}:{function}"
        counts[name] = counts.get(name, 0) + int(match.group(1).replace(",", ""))
    return counts


def run(script: Path, workload: str, n: int, tmp: Path) -> dict[str, int]:
    out_file = tmp / f"{workload}.{n}.out"
    valgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}"]
    subprocess.run(
        [*valgrind, sys.executable, str(script), workload, str(n)],
        capture_output=True,
        check=True,
        timeout=600,
    )
    return per_function(out_file)


def main() -> None:
    bench = Path(__file__).resolve().parent
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        script = tmp / "workload.py"
        script.write_text(WORKLOAD.format(bench=str(bench)))
        rows = {}
        for workload in ("full", "seven", "shell"):
            small, large = run(script, workload, N, tmp), run(script, workload, 2 * N, tmp)
            split = dict.fromkeys(CATEGORIES, 0.0)
            for function in small.keys() | large.keys():
                delta = large.get(function, 0) - small.get(function, 0)
                split[category(function)] += delta / N
            rows[workload] = split
    print(f"instructions per parse + read (callgrind, N = {N} and {2 * N})")
    print(f"{'':16}" + "".join(f"{name:>10}" for name in rows))
    for name in CATEGORIES:
        print(f"{name:16}" + "".join(f"{rows[w][name]:10,.0f}" for w in rows))
    print(f"{'total':16}" + "".join(f"{sum(rows[w].values()):10,.0f}" for w in rows))


if __name__ == "__main__":
    main()
