#!/usr/bin/env bash
# Slow (minutes on 2 cores): generates the real geometry (5 x 10,000 + 10,000 test), loads it
# with torchvision and trains the PyTorch tutorial CNN for one epoch on CPU; the synthetic
# classes must be clearly learnable (>= 80% test accuracy). Runs when TB_SLOW_TESTS=1.
set -euo pipefail
if [ "${TB_SLOW_TESTS:-0}" != 1 ]; then echo "skipped (set TB_SLOW_TESTS=1)"; exit 0; fi
TB_BIN="${TB_BIN:?}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d /tmp/tb-dataset-learn.XXXXXX)"
trap 'rm -rf "$work"' EXIT
"$TB_BIN" dataset generate --out "$work" --tarball none
/usr/bin/python3 "$here/torchvision_check.py" "$work" "$TB_BIN" --train-epochs 1 --min-accuracy 0.80
