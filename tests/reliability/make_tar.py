#!/usr/bin/python3
"""Writes hostile tarballs for tests/reliability/extract_test.sh.

make_tar.py KIND OUT [OUTSIDE]: KIND is one of
  abs       a member with an absolute path (OUTSIDE/abs.txt)
  dotdot    a member 'cifar-10-batches-py/../../../../outside-dotdot.txt'
  symlink   'cifar-10-batches-py/esc' -> OUTSIDE, then a file written through it
  symrel    'esc' -> '../..' then 'esc/outside-symrel.txt'
  hardlink  a hard link to OUTSIDE/victim.txt (absolute), then data written to it
  hardrel   a hard link to '../victim.txt'
  device    a character device node (1,3 = /dev/null)
  blockdev  a block device node
  fifo      a FIFO
  bomb      a bzip2 tarball whose single member expands to TB_BOMB_BYTES (default 1.25 GiB)
  entries   a gzip tarball with 1,000,001 directory entries (the default entry limit + 1)
"""
import bz2
import gzip
import io
import os
import sys
import tarfile


def add(t, name, data=b"", **attrs):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mode = 0o644
    for k, v in attrs.items():
        setattr(ti, k, v)
    t.addfile(ti, io.BytesIO(data) if data else None)


def main():
    kind, out = sys.argv[1], sys.argv[2]
    outside = sys.argv[3] if len(sys.argv) > 3 else "/tmp"
    if kind == "bomb":
        total = int(os.environ.get("TB_BOMB_BYTES", str(1280 << 20)))
        ti = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
        ti.size = total
        comp = bz2.BZ2Compressor(9)
        with open(out, "wb") as f:
            f.write(comp.compress(ti.tobuf(format=tarfile.GNU_FORMAT)))
            chunk = bytes(16 << 20)
            left = total
            while left:
                n = min(left, len(chunk))
                f.write(comp.compress(chunk[:n]))
                left -= n
            f.write(comp.compress(bytes((512 - total % 512) % 512 + 1024)))
            f.write(comp.flush())
        return
    if kind == "entries":
        ti = tarfile.TarInfo("cifar-10-batches-py/")
        ti.type = tarfile.DIRTYPE
        ti.mode = 0o755
        block = ti.tobuf(format=tarfile.GNU_FORMAT) * 1000
        with gzip.open(out, "wb", compresslevel=1) as f:
            for _ in range(1001):
                f.write(block)
            f.write(ti.tobuf(format=tarfile.GNU_FORMAT))
            f.write(bytes(1024))
        return
    with tarfile.open(out, "w:gz", format=tarfile.GNU_FORMAT) as t:
        add(t, "cifar-10-batches-py/readme.html", b"<p>ok</p>\n")
        if kind == "abs":
            add(t, outside + "/abs.txt", b"pwned\n")
        elif kind == "dotdot":
            add(t, "cifar-10-batches-py/../../../../outside-dotdot.txt", b"pwned\n")
        elif kind == "symlink":
            add(t, "cifar-10-batches-py/esc", type=tarfile.SYMTYPE, linkname=outside)
            add(t, "cifar-10-batches-py/esc/through-symlink.txt", b"pwned\n")
        elif kind == "symrel":
            add(t, "esc", type=tarfile.SYMTYPE, linkname="../..")
            add(t, "esc/outside-symrel.txt", b"pwned\n")
        elif kind == "hardlink":
            add(t, "cifar-10-batches-py/hl", type=tarfile.LNKTYPE, linkname=outside + "/victim.txt")
        elif kind == "hardrel":
            add(t, "cifar-10-batches-py/hl", type=tarfile.LNKTYPE, linkname="../victim.txt")
        elif kind == "device":
            add(t, "cifar-10-batches-py/null", type=tarfile.CHRTYPE, devmajor=1, devminor=3)
        elif kind == "blockdev":
            add(t, "cifar-10-batches-py/disk", type=tarfile.BLKTYPE, devmajor=7, devminor=0)
        elif kind == "fifo":
            add(t, "cifar-10-batches-py/pipe", type=tarfile.FIFOTYPE)
        else:
            sys.exit("unknown kind " + kind)


if __name__ == "__main__":
    main()
