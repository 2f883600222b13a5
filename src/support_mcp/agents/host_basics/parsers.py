"""Pure parsers for the host-basics commands (procps-ng `uptime`, `free`, `top`; GNU `df -P`).

Input is the stdout recorded under the C.UTF-8 locale. Anything that does not have the expected
shape raises InvalidInput instead of yielding half-parsed numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from support_mcp.domain.errors import InvalidInput


@dataclass(frozen=True)
class Uptime:
    """Load averages, time since boot (None when not printed) and logged-in users."""

    load1: float
    load5: float
    load15: float
    uptime_seconds: int | None
    users: int | None
    line: str


@dataclass(frozen=True)
class DiskUsage:
    """One `df -P` row in bytes; use_percent is None where df prints `-` (size 0)."""

    filesystem: str
    size_bytes: int
    used_bytes: int
    available_bytes: int
    use_percent: int | None
    mount: str
    line: str


@dataclass(frozen=True)
class Memory:
    """`free -m` in MiB, including the kernel's estimate of memory available to new work."""

    total_mib: int
    used_mib: int
    free_mib: int
    available_mib: int
    buff_cache_mib: int
    swap_total_mib: int
    swap_used_mib: int
    swap_free_mib: int
    lines: tuple[str, ...]

    @property
    def available_percent(self) -> float:
        return 100.0 * self.available_mib / self.total_mib


@dataclass(frozen=True)
class TopProcess:
    pid: int
    user: str
    cpu_percent: float
    mem_percent: float
    command: str
    line: str
    cpu_time_s: float | None = None  # TIME+ (CPU time since the process started), when top shows it


def _cpu_time(value: str) -> float | None:
    """top's TIME+ (`412:07.33` = minutes:seconds.hundredths, `10900:22`, `1:02:03`) in seconds."""
    try:
        parts = [float(x) for x in value.split(":")]
    except ValueError:
        return None
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


@dataclass(frozen=True)
class TopSnapshot:
    """One `top -b -n1` frame: header numbers and the processes with the highest %CPU."""

    uptime: Uptime
    tasks_total: int
    tasks_running: int
    tasks_zombie: int
    cpu_idle: float
    cpu_iowait: float
    cpu_steal: float
    processes: tuple[TopProcess, ...]
    header_lines: tuple[str, ...]


def _fail(what: str, text: str) -> InvalidInput:
    shown = text.strip().splitlines()[0] if text.strip() else "<empty>"
    shown = shown if len(shown) <= 120 else shown[:117] + "..."
    return InvalidInput(f"unparseable {what}: {shown!r}")


# --- uptime ------------------------------------------------------------------------------------

_NUM = r"(\d+(?:\.\d+)?)"
# macOS/BSD print "load averages: 1.2 1.3 1.4" without commas; procps prints "load average: a, b, c".
_LOAD_RE = re.compile(rf"load averages?:\s*{_NUM},?\s+{_NUM},?\s+{_NUM}\s*$")
_UP_RE = re.compile(r"\bup\s+(?P<up>.*?),\s+(?:(?P<users>\d+)\s+users?,\s+)?load averages?:")
_UP_PARTS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"(\d+)\s+days?"), 86_400),
    (re.compile(r"(\d+)\s+(?:hrs?|hours?)"), 3_600),
    (re.compile(r"(\d+)\s+(?:min|mins|minutes?)"), 60),
    (re.compile(r"(\d+)\s+(?:secs?|seconds?)"), 1),
)
_HH_MM = re.compile(r"(\d+):(\d{2})")


def parse_uptime(text: str) -> Uptime:
    """Parse `uptime` (or the first line of `top`): ` 14:22:07 up 3 days,  4:05,  2 users,  load
    average: 7.90, 6.42, 4.18`."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) != 1:
        raise _fail("uptime output (expected exactly one line)", text)
    line = lines[0].rstrip()
    load = _LOAD_RE.search(line)
    up = _UP_RE.search(line)
    if load is None or up is None:
        raise _fail("uptime output", text)
    return Uptime(
        load1=float(load[1]),
        load5=float(load[2]),
        load15=float(load[3]),
        uptime_seconds=_up_seconds(up["up"], text),
        users=int(up["users"]) if up["users"] is not None else None,
        line=line,
    )


def _up_seconds(up: str, text: str) -> int:
    seconds = 0
    for part in (p.strip() for p in up.split(",")):
        if match := _HH_MM.fullmatch(part):
            seconds += int(match[1]) * 3_600 + int(match[2]) * 60
            continue
        for pattern, factor in _UP_PARTS:
            if match := pattern.fullmatch(part):
                seconds += int(match[1]) * factor
                break
        else:
            raise _fail(f"uptime duration part {part!r}", text)
    return seconds


# --- df ----------------------------------------------------------------------------------------

_DF_HEADER = re.compile(r"^Filesystem\s+(\d+)([KkMm]?)-blocks\s+Used\s+Avail(?:able)?\s+(?:Capacity|Use%)\s+Mounted on\s*$")
_DF_ROW = re.compile(
    r"^(?P<fs>\S.*?)\s+(?P<size>\d+)\s+(?P<used>\d+)\s+(?P<avail>\d+)\s+(?:(?P<pct>\d+)%|-)\s+(?P<mount>/.*?)\s*$"
)
_BLOCK_UNIT = {"": 1, "K": 1024, "k": 1024, "M": 1024**2, "m": 1024**2}


def parse_df(text: str) -> list[DiskUsage]:
    """Parse `df -P -B1` (or `-P -k`): one row per filesystem, sizes converted to bytes.

    Human-readable output (`df -h`) is refused: its rounded sizes are not numbers to judge by."""
    lines = [line for line in text.splitlines() if line.strip()]
    header = _DF_HEADER.match(lines[0]) if lines else None
    if header is None:
        raise _fail("df header (expected POSIX `df -P -B1` output)", text)
    block = int(header[1]) * _BLOCK_UNIT[header[2]]
    disks: list[DiskUsage] = []
    for line in lines[1:]:
        row = _DF_ROW.match(line)
        if row is None:
            raise _fail("df row", line)
        disks.append(
            DiskUsage(
                filesystem=row["fs"],
                size_bytes=int(row["size"]) * block,
                used_bytes=int(row["used"]) * block,
                available_bytes=int(row["avail"]) * block,
                use_percent=int(row["pct"]) if row["pct"] is not None else None,
                mount=row["mount"],
                line=line.rstrip(),
            )
        )
    if not disks:
        raise _fail("df output (header without filesystems)", text)
    return disks


# --- free --------------------------------------------------------------------------------------


def parse_free(text: str) -> Memory:
    """Parse `free -m` of procps-ng ≥ 3.3.10 (with the `available` column); values in MiB."""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    if not lines or "available" not in lines[0].split():
        raise _fail("free header (expected procps-ng `free -m` with an `available` column)", text)
    columns = lines[0].split()
    rows: dict[str, dict[str, int]] = {}
    for line in lines[1:]:
        label, _, rest = line.partition(":")
        values = rest.split()
        try:
            numbers = [int(value) for value in values]
        except ValueError:
            raise _fail("free row (expected whole MiB, run free -m)", line) from None
        wanted = columns if label == "Mem" else columns[:3]
        if label in ("Mem", "Swap") and len(numbers) != len(wanted):
            raise _fail(f"free {label} row ({len(wanted)} numbers expected)", line)
        rows[label] = dict(zip(wanted, numbers, strict=False))
    if "Mem" not in rows or "Swap" not in rows:
        raise _fail("free output (Mem: and Swap: rows expected)", text)
    mem, swap = rows["Mem"], rows["Swap"]
    if mem["total"] <= 0:
        raise _fail("free output (total memory is 0)", text)
    # `free -w` splits buff/cache into two columns.
    buff_cache = mem.get("buff/cache", mem.get("buffers", 0) + mem.get("cache", 0))
    return Memory(
        total_mib=mem["total"],
        used_mib=mem["used"],
        free_mib=mem["free"],
        available_mib=mem["available"],
        buff_cache_mib=buff_cache,
        swap_total_mib=swap["total"],
        swap_used_mib=swap["used"],
        swap_free_mib=swap["free"],
        lines=tuple(lines),
    )


def parse_nproc(text: str) -> int:
    """Parse `nproc`: one positive integer."""
    value = text.strip()
    if not value.isdigit() or int(value) < 1:
        raise _fail("nproc output", text)
    return int(value)


# --- top ---------------------------------------------------------------------------------------

_TASKS_RE = re.compile(
    r"^(?:Tasks|Threads):\s*(\d+) total,\s*(\d+) running,\s*(\d+) sleeping,\s*(\d+) stopped,\s*(\d+) zombie"
)
# procps-ng ≥ 3.3 prints "61.3 us,", procps 3.2 printed "61.3%us,".
_CPU_FIELD = re.compile(r"(\d+(?:\.\d+)?)\s*%?\s*(us|sy|ni|id|wa|hi|si|st)\b")


def parse_top(text: str, limit: int = 10) -> TopSnapshot:
    """Parse one `top -b -n1` frame; keep the `limit` processes with the highest %CPU."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("top - "):
        raise _fail("top output (expected `top - ...` first line)", text)
    uptime = parse_uptime(lines[0][len("top - ") :])
    tasks = next((m for line in lines[1:6] if (m := _TASKS_RE.match(line))), None)
    cpu_line = next((line for line in lines[1:6] if line.lstrip("%").startswith("Cpu(s):")), None)
    if tasks is None or cpu_line is None:
        raise _fail("top summary (Tasks: and %Cpu(s): lines expected)", text)
    cpu = {name: float(value) for value, name in _CPU_FIELD.findall(cpu_line)}
    if "id" not in cpu:
        raise _fail("top CPU line", cpu_line)
    header_at = next((i for i, line in enumerate(lines) if line.split()[:1] == ["PID"]), None)
    if header_at is None:
        raise _fail("top output (process table header expected)", text)
    processes = _top_processes(lines[header_at], lines[header_at + 1 :])
    processes.sort(key=lambda p: p.cpu_percent, reverse=True)
    return TopSnapshot(
        uptime=uptime,
        tasks_total=int(tasks[1]),
        tasks_running=int(tasks[2]),
        tasks_zombie=int(tasks[5]),
        cpu_idle=cpu["id"],
        cpu_iowait=cpu.get("wa", 0.0),
        cpu_steal=cpu.get("st", 0.0),
        processes=tuple(processes[:limit]),
        header_lines=tuple(line.rstrip() for line in lines[:header_at] if line.strip()),
    )


def _top_processes(header: str, rows: list[str]) -> list[TopProcess]:
    columns = header.split()
    needed = ("PID", "USER", "%CPU", "%MEM", "COMMAND")
    if any(name not in columns for name in needed) or columns[-1] != "COMMAND":
        raise _fail("top process header", header)
    at = {name: columns.index(name) for name in needed}
    processes: list[TopProcess] = []
    for line in rows:
        if not line.strip():
            continue
        # COMMAND is last and may contain spaces (top -c), so split only as often as needed.
        fields = line.split(None, len(columns) - 1)
        try:
            processes.append(
                TopProcess(
                    pid=int(fields[at["PID"]]),
                    user=fields[at["USER"]],
                    cpu_percent=float(fields[at["%CPU"]]),
                    mem_percent=float(fields[at["%MEM"]]),
                    command=fields[at["COMMAND"]],
                    line=line.rstrip(),
                    cpu_time_s=_cpu_time(fields[columns.index("TIME+")]) if "TIME+" in columns else None,
                )
            )
        except (ValueError, IndexError):
            raise _fail("top process row", line) from None
    return processes
