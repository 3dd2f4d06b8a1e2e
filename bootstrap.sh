#!/usr/bin/env bash
# Set up this machine for dataplane-bench: Debian packages, then a Python virtualenv in .venv.
# Idempotent: a second run installs nothing new. Usage: ./bootstrap.sh [--tests]
#   --tests   also install what the test suite needs (Debian's chromium for the browser tests)
set -euo pipefail
cd "$(dirname "$0")"

want_tests=0
for arg in "$@"; do
  case "$arg" in
    --tests) want_tests=1 ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "bootstrap.sh: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

if [ "$(id -u)" -ne 0 ]; then
  echo "bootstrap.sh: run me as root (the lab creates network namespaces and runs sshd); e.g. sudo ./bootstrap.sh" >&2
  exit 3
fi
if ! command -v apt-get >/dev/null || ! command -v dpkg-query >/dev/null; then
  echo "bootstrap.sh: this needs an apt-based system (Debian 12 or a derivative); install the packages listed in bootstrap.sh by hand elsewhere" >&2
  exit 4
fi

packages=(
  openssh-server openssh-client qperf iperf3 sockperf iproute2 iputils-ping ethtool
  openvswitch-switch build-essential binutils procps coreutils python3 python3-venv python3-pip git ca-certificates
  qemu-system-x86 mmdebstrap e2fsprogs
)
[ "$want_tests" -eq 1 ] && packages+=(chromium fonts-dejavu-core)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "bootstrap.sh: installing Debian packages: ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "bootstrap.sh: Debian packages already installed"
fi
# The lab's VM image is made from Debian packages (apt-get download): it needs the package lists.
if ! apt-cache show --no-all-versions linux-image-cloud-amd64 >/dev/null 2>&1; then
  echo "bootstrap.sh: fetching the Debian package lists (for the lab's VM image)"
  apt-get update -q
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "bootstrap.sh: $python is older than 3.11; set PYTHON=/path/to/python3.11+" >&2
  exit 4
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=.venv/.dataplane-bench-installed
fingerprint=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$fingerprint" ]; then
  echo "bootstrap.sh: installing Python dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  echo "$fingerprint" > "$stamp"
else
  echo "bootstrap.sh: Python dependencies already installed in .venv"
fi
echo "bootstrap.sh: ready — run tasks with .venv/bin/invoke (invoke --list shows them)"
