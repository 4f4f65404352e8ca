#!/usr/bin/env bash
# RiskMap set-up and entry point. Safe to run again: every step checks before it installs.
#   ./run.sh dashboard   install what is missing, start the embedded PostGIS, load the demo, serve
#   ./run.sh test        install what is missing, then lint, type-check and run the whole test suite
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
APT_PACKAGES=(postgresql-15-postgis-3 gdal-bin chromium chromium-driver fonts-noto-cjk poppler-utils)

say() { printf '\033[1;34m[riskmap]\033[0m %s\n' "$*"; }

need_system() {
  compgen -G "/usr/share/postgresql/*/extension/postgis.control" >/dev/null || return 0
  command -v ogrinfo >/dev/null || return 0
  command -v pdftoppm >/dev/null || return 0
  [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] || return 0
  # (no `grep -q` here: it closes the pipe early and pipefail would report a failure)
  [ "$(fc-list 2>/dev/null | grep -ci 'Noto Sans CJK')" -gt 0 ] || return 0
  return 1
}

install_system() {
  if need_system; then
    say "installing Debian packages: ${APT_PACKAGES[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends --no-upgrade "${APT_PACKAGES[@]}" >/dev/null
  fi
}

install_python() {
  local py="${PYTHON:-python3}"
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating virtualenv $VENV"
    "$py" -m venv "$VENV"
  fi
  local stamp="$VENV/.riskmap-installed-$(sha256sum pyproject.toml | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    say "installing Python packages (pip install -e .[test])"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e ".[test]"
    rm -f "$VENV"/.riskmap-installed-*
    touch "$stamp"
  fi
}

cmd="${1:-help}"
shift || true
case "$cmd" in
  dashboard)
    install_system
    install_python
    exec "$VENV/bin/riskmap" up --host "${RISKMAP_HOST:-127.0.0.1}" --port "${RISKMAP_PORT:-8050}" "$@"
    ;;
  test)
    install_system
    install_python
    say "ruff"; "$VENV/bin/ruff" check .
    say "mypy"; "$VENV/bin/mypy"
    say "data dictionary up to date"; "$VENV/bin/riskmap" dictionary --check
    say "pytest"
    exec "$VENV/bin/python" -m pytest --doctest-modules geo layers campaign tests "$@"
    ;;
  *)
    echo "usage: ./run.sh dashboard | ./run.sh test [pytest args]" >&2
    exit 64
    ;;
esac
