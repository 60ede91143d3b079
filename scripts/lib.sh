# Shared helpers for scripts/run.sh and scripts/test.sh (sourced, not run).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# step NAME CMD...: run a step and print how long it took.
step() {
  local name="$1"; shift
  local t0=$SECONDS
  echo "==> $name"
  "$@"
  echo "<== $name: $((SECONDS - t0)) s"
}

# Install Debian packages that are missing (apt-get, as root or via sudo).
need_debs() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
}

# Install the web client's npm packages when the lock file changed since the last install.
web_deps() {
  local stamp=web-client/node_modules/.plenum-lock
  if [ ! -f "$stamp" ] || ! cmp -s web-client/package-lock.json "$stamp"; then
    npm --prefix web-client ci --no-audit --no-fund
    cp web-client/package-lock.json "$stamp"
  fi
}

# The test OpenID provider's npm packages (signaling/tests/oidc.rs), when its lock file changed since the last install.
oidc_provider_deps() {
  local dir=signaling/tests/oidc-provider
  local stamp=$dir/node_modules/.plenum-lock
  if [ ! -f "$stamp" ] || ! cmp -s $dir/package-lock.json "$stamp"; then
    npm --prefix $dir ci --no-audit --no-fund
    cp $dir/package-lock.json "$stamp"
  fi
}
