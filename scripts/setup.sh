#!/bin/sh
# Installs what etcd-ops and its tests need on a fresh Debian machine (run as root):
# npm dependencies, etcd 3.4 (etcd-server, etcd-client), kubectl (kubernetes-client), tmux, iproute2,
# rclone (off-host backup copies) and promtool (prometheus: the alert rules' tests) when missing.
# ETCD_BIN / ETCDCTL_BIN point at other binaries and skip the etcd install.
set -e
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi

need=""
if [ -z "$ETCD_BIN" ] && ! command -v etcd >/dev/null 2>&1; then need="$need etcd-server"; fi
if [ -z "$ETCDCTL_BIN" ] && ! command -v etcdctl >/dev/null 2>&1; then need="$need etcd-client"; fi
if ! command -v kubectl >/dev/null 2>&1; then need="$need kubernetes-client"; fi
# tmux drives `kubectl exec -it` in the tests; iproute2 (`ip`) gives each host its own network.
if ! command -v tmux >/dev/null 2>&1; then need="$need tmux"; fi
if ! command -v ip >/dev/null 2>&1; then need="$need iproute2"; fi
if ! command -v rclone >/dev/null 2>&1; then need="$need rclone"; fi
if ! command -v promtool >/dev/null 2>&1; then need="$need prometheus"; fi
if [ -n "$need" ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: missing$need; install them (Debian packages) or set ETCD_BIN/ETCDCTL_BIN" >&2
    exit 1
  fi
  echo "setup: installing$need from apt"
  apt-get update -qq
  # policy-rc.d keeps Debian's etcd (and prometheus) services from starting: etcd-ops runs its own
  # members, and only promtool is wanted from the prometheus package.
  ours=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && ours=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
  if [ -n "$ours" ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

# A fresh build unless dist/ is current (npm ci builds it through the prepare script).
node scripts/build.mjs
