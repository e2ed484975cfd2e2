#!/usr/bin/env python3
"""Writes the seed corpus of the state_dict fuzz target (tests/fuzz/corpus/state_dict/).

Python's torch is not needed: the files are laid out as torch.save writes a small
state_dict (protocol-2 data.pkl of an OrderedDict of _rebuild_tensor_v2 calls with
persistent-id storages and the _metadata BUILD; a stored zip whose records are aligned to
64 bytes with an "FB" extra field, with byteorder and version records), plus the libtorch
form (torch::pickle_save of a Dict[str, Tensor], restore_type_tag). Each .pth also comes
as its bare data.pkl, which the fuzz target wraps in a zip itself.

Usage: tests/fuzz/make_state_dict_seeds.py [OUT_DIR]
"""
import os
import struct
import sys
import zlib


def text(s):  # BINUNICODE
    b = s.encode()
    return b'X' + struct.pack('<I', len(b)) + b


class Memo:
    def __init__(self):
        self.n = 0

    def put(self):
        out = b'q' + bytes([self.n]) if self.n < 256 else b'r' + struct.pack('<I', self.n)
        self.n += 1
        return out


def tensor_items(m, tensors):
    """The name, _rebuild_tensor_v2(...) pairs of a dict, both pickle forms alike."""
    p = b''
    for name, key, numel, offset, sizes, strides in tensors:
        p += text(name) + m.put()
        p += b'ctorch._utils\n_rebuild_tensor_v2\n' + m.put() + b'('
        p += b'(' + text('storage') + m.put() + b'ctorch\nFloatStorage\n' + m.put()
        p += text(key) + m.put() + text('cpu') + m.put() + b'K' + bytes([numel]) + b't' + m.put() + b'Q'
        p += b'K' + bytes([offset])
        p += b'(' + b''.join(b'K' + bytes([s]) for s in sizes) + b't' + m.put()
        p += b'(' + b''.join(b'K' + bytes([s]) for s in strides) + b't' + m.put()
        p += b'\x89' + b'ccollections\nOrderedDict\n)R' + m.put() + b't' + m.put() + b'R' + m.put()
    return p


def python_pickle(tensors):
    """tensors: [(name, storage_key, numel, offset, sizes, strides)] -> protocol 2 bytes."""
    m = Memo()
    p = b'\x80\x02' + b'ccollections\nOrderedDict\n' + m.put() + b')R' + m.put() + b'('
    p += tensor_items(m, tensors)
    p += b'u'
    # BUILD with {'_metadata': OrderedDict({'': {'version': 1}})}, as nn.Module.state_dict() has.
    p += b'}' + m.put() + text('_metadata') + m.put() + b'ccollections\nOrderedDict\n)R' + m.put()
    p += b'(' + text('') + m.put() + b'}' + m.put() + text('version') + m.put() + b'K\x01s' + b'u'
    p += b's' + b'b' + b'.'
    return p


def libtorch_pickle(tensors):
    """The torch::pickle_save form: restore_type_tag(dict, 'Dict[str, Tensor]')."""
    m = Memo()
    p = b'\x80\x02' + b'ctorch.jit._pickle\nrestore_type_tag\n' + m.put() + b'}' + m.put() + b'('
    p += tensor_items(m, tensors)
    p += b'u' + text('Dict[str, Tensor]') + m.put() + b'\x86' + m.put() + b'R' + m.put() + b'.'
    return p


def stored_zip(records):
    """A stored zip whose data starts at 64-byte boundaries (torch's "FB" padding)."""
    out, central = b'', b''
    for name, data in records:
        name_b = name.encode()
        offset = len(out)
        pad = (-(offset + 30 + len(name_b) + 4)) % 64
        extra = b'FB' + struct.pack('<H', pad) + b'Z' * pad
        crc = zlib.crc32(data)
        out += struct.pack('<IHHHHHIIIHH', 0x04034b50, 0, 0x0800, 0, 0, 0, crc, len(data), len(data),
                           len(name_b), len(extra)) + name_b + extra + data
        central += struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 0, 0, 0x0800, 0, 0, 0, crc, len(data), len(data),
                               len(name_b), 0, 0, 0, 0, 0, offset) + name_b
    cd = len(out)
    out += central + struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, len(records), len(records), len(central), cd, 0)
    return out


def floats(values):
    return struct.pack('<%df' % len(values), *values)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'corpus', 'state_dict')
    os.makedirs(out, exist_ok=True)
    # fc.weight: a transposed 2x3 view of storage "0" at offset 1; fc.bias: storage "1".
    tensors = [('fc.weight', '0', 7, 1, (2, 3), (1, 2)), ('fc.bias', '1', 3, 0, (3,), (1,))]
    storages = [('0', floats([0.5 * i for i in range(7)])), ('1', floats([1.0, -2.0, 3.5]))]
    # The bare pickles reference only storage "0" (16 floats), the one the fuzz target adds.
    bare = [('w', '0', 16, 2, (2, 3), (3, 1)), ('v', '0', 16, 0, (4,), (4,))]
    files = {
        'python_ordered_dict.pth': ('archive', python_pickle(tensors)),
        'libtorch_pickle_save.pth': ('archive', libtorch_pickle(tensors)),
    }
    for name, (prefix, pkl) in files.items():
        records = [(prefix + '/data.pkl', pkl), (prefix + '/byteorder', b'little')]
        records += [(prefix + '/data/' + key, data) for key, data in storages]
        records += [(prefix + '/version', b'3\n')]
        with open(os.path.join(out, name), 'wb') as f:
            f.write(stored_zip(records))
    with open(os.path.join(out, 'python_ordered_dict.pkl'), 'wb') as f:
        f.write(python_pickle(bare))
    with open(os.path.join(out, 'libtorch_pickle_save.pkl'), 'wb') as f:
        f.write(libtorch_pickle(bare))


if __name__ == '__main__':
    main()
