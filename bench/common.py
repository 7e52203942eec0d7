"""Helpers shared by the bench scripts: where things go, timing statistics, result files.

Results are JSON files under build/bench/results/ (one per bench); bench/report.py turns them
into docs/BENCHMARKS.md. Nothing here asserts on time: benches measure and report.
"""
from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = Path(os.environ.get("VMS_BENCH_BUILD", ROOT / "build" / "bench"))
RESULTS = BUILD / "results"


def stats(samples: list[float]) -> dict:
    """Median, min, max and the raw samples (seconds or bytes), rounded for the report."""
    return {"median": round(statistics.median(samples), 4), "min": round(min(samples), 4),
            "max": round(max(samples), 4), "runs": len(samples), "samples": [round(s, 4) for s in samples]}


def timed(func, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    value = func(*args, **kwargs)
    return time.perf_counter() - start, value


def run(cmd: list[str], env: dict | None = None, cwd: Path = ROOT, timeout: float = 900) -> tuple[float, str]:
    """Run a command, return (wall seconds, stdout). Raises with the tail of the output on failure,
    so a broken bench says why instead of reporting a time for a failed run."""
    elapsed, _, out = run_cpu(cmd, env, cwd, timeout)
    return elapsed, out


def run_cpu(cmd: list[str], env: dict | None = None, cwd: Path = ROOT,
            timeout: float = 900) -> tuple[float, float, str]:
    """Like run(), also returning the CPU seconds (user + system) of the command and its children:
    on a shared machine wall time varies with other load, CPU time much less."""
    full_env = {**os.environ, **(env or {})}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
        raise RuntimeError(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{tail}")
    return elapsed, cpu, proc.stdout


def write_result(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {"bench": name, "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **data}
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def read_results() -> dict[str, dict]:
    if not RESULTS.is_dir():
        return {}
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(RESULTS.glob("*.json"))}


def _out(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "n/a"


def machine() -> dict:
    """What the numbers were measured on (the report's first table)."""
    import ansible.release

    mem = _out(["free", "-h"]).splitlines()
    return {
        "nproc": _out(["nproc"]), "free_h_mem": mem[1] if len(mem) > 1 else "n/a",
        "cpu": next((line.split(":", 1)[1].strip() for line in _read_lines("/proc/cpuinfo")
                     if line.startswith("model name")), platform.processor() or "n/a"),
        "kernel": platform.release(), "python": platform.python_version(),
        "ansible_core": ansible.release.__version__, "docker": _out(["docker", "version", "--format",
                                                                    "{{.Server.Version}}"]),
        "nft_in_lab_image": "see apply bench",
    }


def _read_lines(path: str) -> list[str]:
    try:
        return Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
