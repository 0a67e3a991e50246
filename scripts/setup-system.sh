#!/usr/bin/env bash
# Installs the host packages the project sandbox (packages/server/src/runtime, ADR 0006) needs:
# bubblewrap (namespaces), slirp4netns (user-mode networking for egress) and iptables (the egress filter
# installed into each sandbox's network namespace), plus util-linux tools Debian normally has; and for the
# tests, Chromium, which the browser tests in e2e/ drive through playwright-core (it downloads no browser of
# its own), iproute2, whose `ip netns` gives a system test's worker a network of its own, and PostgreSQL's
# server binaries (initdb, pg_ctl), with which a test or bench starts a cluster of its own to restart
# (packages/server/src/testing/pg-cluster.ts) instead of the shared server on 5432, openssl (the tests'
# https git host and webhook receivers), and dnsmasq, the DNS server the custom-domain tests answer TXT
# records with (packages/server/src/domains/).
# Idempotent: does nothing when all are present.
# Run by `npm start` (prestart: sandbox packages only) and by `npm test` / `.ci/run` with --e2e (adds the
# test packages).
set -euo pipefail

with_browser=false
[ "${1:-}" = "--e2e" ] && with_browser=true

# command → Debian package
declare -A needed=(
  [bwrap]=bubblewrap
  [slirp4netns]=slirp4netns
  [iptables]=iptables
  [nsenter]=util-linux
  [prlimit]=util-linux
  [setpriv]=util-linux
  [unshare]=util-linux
)
if $with_browser; then
  needed[chromium]=chromium
  needed[ip]=iproute2
  # The tests' git host outside Kiln (testing/git-server.ts) makes its CA and certificate with it.
  needed[openssl]=openssl
  needed[dnsmasq]=dnsmasq-base
fi

missing=()
# Debian keeps initdb off PATH, in /usr/lib/postgresql/<major>/bin.
if $with_browser && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && ! command -v initdb >/dev/null 2>&1; then
  missing+=(postgresql)
fi
# The e2e screenshots show the studio's emoji (agent icons) as a user's browser would.
if $with_browser && ! [ -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ]; then
  missing+=(fonts-noto-color-emoji)
fi
for cmd in "${!needed[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$cmd" ] && ! [ -x "/sbin/$cmd" ]; then
    missing+=("${needed[$cmd]}")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

# de-duplicate
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)

if [ "$(id -u)" -ne 0 ]; then
  echo "kiln: the project sandbox needs these packages: ${missing[*]}" >&2
  echo "kiln: not running as root, so not installing them. Run as root:" >&2
  echo "        apt-get update && apt-get install -y ${missing[*]}" >&2
  echo "kiln: until then \`kiln start\` reports the sandbox as unavailable and runs no project code." >&2
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "kiln: missing ${missing[*]} and no apt-get on this host; install them with your package manager." >&2
  exit 0
fi

echo "kiln: installing sandbox packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
