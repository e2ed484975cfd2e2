#!/usr/bin/env bash
# Installs everything tierbench needs to build, test and benchmark, from Debian 12 packages only.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends \
  build-essential cmake ninja-build pkg-config ccache git clang libclang-rt-14-dev clang-format universal-ctags \
  libcurl4-openssl-dev libssl-dev libarchive-dev libisal-dev zlib1g-dev libpng-dev \
  libtomlplusplus-dev nlohmann-json3-dev libstb-dev libgtest-dev \
  libtorch-dev libgloo-dev \
  openmpi-bin slurm-wlm munge iproute2 \
  nginx-light ceph-mon ceph-osd radosgw ceph-common uuid-runtime ceph-mds ceph-fuse fuse3 \
  curl ca-certificates coreutils tar gzip time openssl bzip2 xz-utils procps aria2 rclone bc \
  python3 python3-numpy python3-torch python3-torchvision python3-boto3 awscli \
  chromium fonts-dejavu-core tmux
