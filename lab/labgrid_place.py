"""A labgrid place, through labgrid's own client (`labgrid-client`).

labgrid lives in its own venv (.venv-labgrid, from requirements-labgrid.txt, made by
`tools/setup.sh --labgrid`): it depends on pyserial-labgrid, a fork that installs the
same `serial` module as upstream pyserial, and roamcert's own venv keeps upstream
pyserial. So roamcert never imports labgrid: it runs labgrid-client, which is also what
a person types to reserve, inspect or power-cycle the same place by hand.

Locking is labgrid's: `acquire` succeeds for one user at a time; a second job asking for
an acquired place gets labgrid's own refusal, which names the holder.
"""
from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class LabgridError(RuntimeError):
    pass


class PlaceBusy(LabgridError):
    """Another job holds the place."""


def labgrid_client() -> str:
    """The labgrid-client of roamcert's labgrid venv (or ROAMCERT_LABGRID_CLIENT, or PATH)."""
    env = os.environ.get("ROAMCERT_LABGRID_CLIENT")
    if env:
        return env
    venv = Path(os.environ.get("ROAMCERT_LABGRID_VENV") or ROOT / ".venv-labgrid")
    cand = venv / "bin" / "labgrid-client"
    if cand.exists():
        return str(cand)
    found = shutil.which("labgrid-client")
    if found:
        return found
    raise LabgridError("labgrid-client not found: run `bash tools/setup.sh --labgrid` "
                       f"(installs requirements-labgrid.txt into {venv})")


@dataclass
class Resource:
    """One acquired resource: exporter/group/class/name and its parameters."""
    exporter: str
    group: str
    cls: str
    name: str
    params: dict = field(default_factory=dict)

    @property
    def path(self) -> str:
        return f"{self.exporter}/{self.group}/{self.cls}/{self.name}"


_HEADER = re.compile(r"^Acquired resource '([^']*)' \(([^/)]+)/([^/)]+)/([^/)]+)/([^)]+)\):$")


def parse_show(text: str) -> list[Resource]:
    """The acquired resources in `labgrid-client show` output. Each is a header line
    followed by the resource's dict as Python's pprint writes it, indented."""
    out: list[Resource] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = _HEADER.match(lines[i])
        i += 1
        if not m:
            continue
        body = []
        while i < len(lines) and lines[i].startswith("  "):
            body.append(lines[i])
            i += 1
        try:
            data = ast.literal_eval("\n".join(x.strip() for x in body))
        except (ValueError, SyntaxError) as e:
            raise LabgridError(f"cannot read labgrid-client's description of {m.group(2)}/{m.group(3)}: {e}")
        params = dict(data.get("params", {}))
        params.pop("extra", None)
        # the quoted name is the one the place knows it by (a named match), which
        # `labgrid-client power --name` and `io` take
        out.append(Resource(m.group(2), m.group(3), m.group(4), m.group(1), params))
    return out


class Place:
    """One labgrid place: acquire, read its resources, switch its power and I/O, release.

    name: the place (labgrid-client -p); env: a labgrid environment file whose RemotePlace
    names it (labgrid-client -c); coordinator: HOST:PORT (else LG_COORDINATOR or labgrid's
    default)."""

    def __init__(self, name: str | None = None, env: str | None = None, coordinator: str | None = None,
                 client: str | None = None, timeout: float = 60):
        if not name and not env:
            raise LabgridError("a labgrid lab needs a place: --lg-place NAME or --lg-env FILE")
        self.name = name
        self.env = env
        self.coordinator = coordinator
        self.client = client or labgrid_client()
        self.timeout = timeout
        self.acquired = False
        self.resources: list[Resource] = []

    @property
    def label(self) -> str:
        return self.name or f"(place of {self.env})"

    def argv(self, *args: str) -> list[str]:
        a = [self.client]
        if self.coordinator:
            a += ["-x", self.coordinator]
        if self.env:
            a += ["-c", self.env]
        if self.name:
            a += ["-p", self.name]
        return a + list(args)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        try:
            r = subprocess.run(self.argv(*args), capture_output=True, text=True, timeout=self.timeout,
                               stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise LabgridError(f"labgrid-client {' '.join(args)} did not answer within {self.timeout:.0f}s "
                               f"(is the coordinator {self.coordinator or 'default'} up?)") from None
        if check and r.returncode != 0:
            raise LabgridError(f"labgrid-client {' '.join(args)} on place {self.label} failed: "
                               f"{(r.stderr or r.stdout).strip()}")
        return r

    def acquire(self) -> None:
        r = self._run("acquire", check=False)
        if r.returncode != 0:
            msg = (r.stderr or r.stdout).strip()
            if "already acquired" in msg:
                raise PlaceBusy(f"labgrid place {self.label} is held by another job: {msg}")
            raise LabgridError(f"cannot acquire labgrid place {self.label}: {msg}")
        self.acquired = True
        self.resources = parse_show(self._run("show").stdout)

    def release(self) -> None:
        if self.acquired:
            self._run("release", check=False)
            self.acquired = False

    def find(self, cls: str, name: str | None = None) -> Resource:
        """The place's resource of class cls; with name, the one whose group or name it is."""
        have = [r for r in self.resources if r.cls == cls and (name is None or name in (r.group, r.name))]
        if not have:
            known = ", ".join(r.path for r in self.resources) or "none"
            want = f"{cls} named {name!r}" if name else cls
            raise LabgridError(f"labgrid place {self.label} has no {want}; its resources: {known}")
        if len(have) > 1 and name is None:
            raise LabgridError(f"labgrid place {self.label} has {len(have)} {cls} resources "
                               f"({', '.join(r.path for r in have)}): name one")
        return have[0]

    def power(self, action: str, name: str | None = None) -> str:
        args = ["power", action] + (["--name", name] if name else [])
        return self._run(*args).stdout.strip()

    def io(self, action: str, name: str | None = None) -> str:
        return self._run("io", action, *([name] if name else [])).stdout.strip()


def acquire_first(places: list[Place], start: int = 0) -> Place:
    """Acquire the first free place of a pool, trying them from index start on (a pytest-xdist
    worker gwN starts at N, so workers spread over the pool and each locks its own place).
    All held: PlaceBusy naming every holder."""
    if not places:
        raise LabgridError("no labgrid place given")
    order = places[start % len(places):] + places[:start % len(places)]
    busy = []
    for place in order:
        try:
            place.acquire()
            return place
        except PlaceBusy as e:
            busy.append(str(e))
    if len(busy) == 1:
        raise PlaceBusy(busy[0])
    raise PlaceBusy("every labgrid place of the pool is held by another job:\n" + "\n".join(busy))


def xdist_worker_index() -> int:
    """N of pytest-xdist's worker gwN (0 outside xdist)."""
    w = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(w[2:]) if w.startswith("gw") and w[2:].isdigit() else 0
