"""Bring a released checkpoint into this project's keys.

``python tools/convert_weights.py --arch ARCH SRC DST`` reads a released
``.pt``/``.pth`` (a bare state dict, or one under ``state_dict``/``model``;
``module.`` prefixes of DataParallel are dropped) with
the project's safe checkpoint loader (no code from the file runs; see
docs/security.md), renames its
keys with the converter registered for ``ARCH`` in
:mod:`mmskelcl.models.convert` and writes ``{'state_dict': ..., 'meta':
{'converted_from': SRC, 'arch': ARCH}}``, loadable by ``tools/test.py``.
"""
import argparse
import os.path as osp
import sys

import torch

import mmskelcl  # noqa: F401  (stack fixes + registration)
from mmskelcl.compat.checkpoint import load_checkpoint_file
from mmskelcl.models.convert import CONVERTERS, convert_state_dict


def load_released(path: str) -> dict:
    """The tensors of a released checkpoint, without wrappers/prefixes."""
    obj = load_checkpoint_file(path, map_location='cpu')
    for key in ('state_dict', 'model'):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not all(
            isinstance(v, torch.Tensor) for v in obj.values()):
        raise ValueError(f'{path}: not a state dict of tensors')
    return {k[7:] if k.startswith('module.') else k: v
            for k, v in obj.items()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--arch', required=True, choices=sorted(CONVERTERS))
    p.add_argument('src', help='released checkpoint')
    p.add_argument('dst', help='output checkpoint (.pth)')
    args = p.parse_args(argv)
    if not osp.isfile(args.src):
        print(f'error: {args.src}: no such file', file=sys.stderr)
        return 1
    if osp.exists(args.dst):
        print(f'error: {args.dst} exists; not overwriting', file=sys.stderr)
        return 1
    state = convert_state_dict(args.arch, load_released(args.src))
    torch.save({'state_dict': state,
                'meta': dict(converted_from=osp.abspath(args.src),
                             arch=args.arch)}, args.dst)
    print(f'{args.dst}: {len(state)} tensors ({args.arch})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
