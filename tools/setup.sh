#!/usr/bin/env bash
# Idempotent setup: Debian packages, the venv, the npm tools, and (with --labgrid) the
# labgrid extra: its own venv .venv-labgrid and the packages of the labgrid proof.
# Each step is skipped when its result is already in place.
set -euo pipefail
with_labgrid=
for a in "$@"; do
  case "$a" in
    --labgrid) with_labgrid=1 ;;
    *) echo "roamcert setup: ignoring unknown option $a (known: --labgrid)" >&2 ;;
  esac
done
here=$(cd "$(dirname "$0")/.." && pwd)
say() { echo "[setup] $*" >&2; }

if [ "$(id -u)" != 0 ]; then
  echo "roamcert: setup must run as root (it installs Debian packages and boots a VM with root-owned shares)" >&2
  exit 2
fi

debs=(python3 python3-venv qemu-system-x86 linux-image-amd64 hostapd wpasupplicant iw wireless-regdb busybox-static tcpdump tshark iproute2 kmod chromium poppler-utils)
if [ -n "$with_labgrid" ]; then
  # ssh and sftp-server carry the agent and the run folder to a lab host; sshfs mounts it
  # there; ser2net serves serial ports; dropbear is the proof VM's SSH server.
  debs+=(openssh-client openssh-sftp-server sshfs ser2net dropbear-bin)
fi
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || { echo "roamcert: apt-get update failed" >&2; exit 2; }
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; then
    echo "roamcert: could not install Debian packages: ${missing[*]}" >&2
    exit 2
  fi
fi

venv="$here/.venv"
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "creating the venv in .venv"
  py=$(command -v python3)
  "$py" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt" >&2
  echo "$want" > "$stamp"
fi

# Allure 3 (npm) builds the single-file Allure report.
if [ -f "$here/package.json" ] && [ ! -x "$here/node_modules/.bin/allure" ]; then
  if ! command -v npm >/dev/null; then
    say "installing Debian packages: nodejs npm"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >&2
  fi
  say "installing the allure npm package"
  (cd "$here" && npm ci --silent --no-audit --no-fund >&2) || {
    echo "roamcert: npm ci failed; the Allure single-file report will be unavailable" >&2; }
fi

# The labgrid extra: a venv of its own (labgrid pulls pyserial-labgrid, which would replace
# .venv's upstream pyserial; see requirements-labgrid.txt).
if [ -n "$with_labgrid" ]; then
  lgvenv="$here/.venv-labgrid"
  lgstamp="$lgvenv/.requirements.sha256"
  lgwant=$(sha256sum "$here/requirements-labgrid.txt" | cut -d' ' -f1)
  if [ ! -x "$lgvenv/bin/labgrid-client" ] || [ "$(cat "$lgstamp" 2>/dev/null)" != "$lgwant" ]; then
    say "creating the labgrid venv in .venv-labgrid"
    python3 -m venv "$lgvenv"
    "$lgvenv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements-labgrid.txt" >&2
    echo "$lgwant" > "$lgstamp"
  fi
fi
