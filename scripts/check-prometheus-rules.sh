#!/usr/bin/env bash
# Checks the Prometheus alerting rules (R18-R20): their syntax with
# `promtool check rules`, and their behaviour with `promtool test rules`,
# which fires each alert on synthetic series. promtool comes from Debian's
# `prometheus` package, installed here when missing (needs root, as on CI).
set -euo pipefail
cd "$(dirname "$0")/.."

RULES=ops/prometheus/alerts.yml
RULE_TESTS=ops/prometheus/alerts.test.yml

if ! command -v promtool >/dev/null; then
  echo "promtool not found: installing Debian's prometheus package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The package's service is not wanted here: only its promtool binary.
  apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
echo "$(promtool --version 2>&1 | head -n 1)"

promtool check rules "$RULES"
promtool check config ops/prometheus/prometheus.yml
promtool test rules "$RULE_TESTS"
