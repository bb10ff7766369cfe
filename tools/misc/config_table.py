"""Table of the shipped configs by dataset, method, encoder and stream.

    python tools/misc/config_table.py            # print the Markdown
    python tools/misc/config_table.py --write    # update docs/configs.md
    python tools/misc/config_table.py --check    # exit 1 if it is stale

Read from the file names under ``configs/<dataset>/``:
``[METHOD_]ENCODER_STREAM[_PROTOCOL].py`` (no method: the plain encoder;
``_base_*`` files are templates and left out). A name that does not follow
this pattern, or an unknown dataset folder, method, encoder, stream or
protocol, is an error naming the file: add the new name to the tables
below. ``tests/tools/test_config_table.py`` fails when ``docs/configs.md``
differs from what this script writes.
"""
import argparse
import os
import os.path as osp
import sys
from collections import OrderedDict
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DOC = osp.join('docs', 'configs.md')

#: folder -> what it holds, in the order of the tables
DATASETS = OrderedDict([
    ('finegym', 'FineGym99 (2D, COCO-17)'),
    ('ntu60_xsub', 'NTU RGB+D 60 X-Sub (3D, 25 joints)'),
    ('ntu60_xview', 'NTU RGB+D 60 X-View'),
    ('ntu120_xsub', 'NTU RGB+D 120 X-Sub'),
    ('ntu120_xset', 'NTU RGB+D 120 X-Set'),
    ('nwucla', 'NW-UCLA (3D, 20 joints)'),
    ('pkummd1', 'PKU-MMD Part I X-Sub (3D, 25 joints)'),
    ('pkummd2', 'PKU-MMD Part II X-Sub (transfer: from NTU60 X-Sub)'),
    ('demo', 'demo (generated, bundled; `make demo`)'),
])
#: file-name prefix -> method (the plain encoder has none)
METHODS = OrderedDict([
    ('', 'plain encoder'),
    ('skeletongcl', 'SkeletonGCL'),
    ('cacl', 'CACL'),
    ('frhead', 'FR-Head'),
    ('csre', 'CSRE'),
    # the heads trained together on one backbone (docs/combined.md)
    ('cacl_frhead', 'CACL + FR-Head'),
    ('cacl_csre', 'CACL + CSRE'),
    ('frhead_csre', 'FR-Head + CSRE'),
    ('cacl_frhead_csre', 'CACL + FR-Head + CSRE'),
    ('skeattnclr', 'SkeAttnCLR'),
])
ENCODERS = OrderedDict([
    ('ctrgcn', 'CTR-GCN'),
    ('stgcnpp', 'ST-GCN++'),
    ('stgcn', 'ST-GCN'),
    ('agcn', '2s-AGCN'),
    ('blockgcn', 'BlockGCN'),
    ('hyperformer', 'Hyperformer'),
    ('infogcn', 'InfoGCN'),
    ('hcn', 'HCN'),
    ('bigru', 'BiGRU'),
    ('dsta', 'DSTA-Net'),
])
STREAMS = ('j', 'b', 'jm', 'bm', 'm')
PROTOCOLS = OrderedDict([
    ('', 'supervised'),
    ('pretrain', 'self-supervised pretraining'),
    ('linear', 'linear probe (released: 150 ep)'),
    ('linear_paper', 'linear probe (paper: 100 ep)'),
    ('linear_bn', 'linear probe on BatchNorm-standardised features (not '
     'in the paper)'),
    ('finetune', 'finetune'),
    ('finetune_paper', 'finetune (paper: lr 0.05, reduce on plateau)'),
    ('semi1', 'semi-supervised, 1 % labels'),
    ('semi10', 'semi-supervised, 10 % labels'),
    ('transfer_linear', 'transfer: linear probe of another pretraining'),
    ('transfer_finetune', 'transfer: finetune of another pretraining'),
])


class ConfigName(NamedTuple):
    """What a config file name says."""

    dataset: str
    method: str
    encoder: str
    stream: str
    protocol: str
    path: str


def parse_name(path: str) -> ConfigName:
    """Split ``configs/<dataset>/[METHOD_]ENCODER_STREAM[_PROTOCOL].py``.

    Raises:
        ValueError: The folder or a part of the name is unknown.
    """
    dataset = osp.basename(osp.dirname(path))
    stem = osp.splitext(osp.basename(path))[0]
    fix = ('follow [METHOD_]ENCODER_STREAM[_PROTOCOL].py or add the new '
           'name to tools/misc/config_table.py')
    if dataset not in DATASETS:
        raise ValueError(f'{path}: unknown dataset folder {dataset!r}; '
                         f'known: {", ".join(DATASETS)} ({fix})')
    tokens = stem.split('_')
    # the longest known method prefix (combined methods join several)
    cut = max((n for n in range(1, len(tokens))
               if '_'.join(tokens[:n]) in METHODS), default=0)
    method = '_'.join(tokens[:cut])
    tokens = tokens[cut:]
    if len(tokens) < 2 or tokens[0] not in ENCODERS \
            or tokens[1] not in STREAMS \
            or '_'.join(tokens[2:]) not in PROTOCOLS:
        raise ValueError(
            f'{path}: cannot read method, encoder, stream and protocol from '
            f'the name; methods {"/".join(m for m in METHODS if m)}, '
            f'encoders {"/".join(ENCODERS)}, streams {"/".join(STREAMS)}, '
            f'protocols {"/".join(p for p in PROTOCOLS if p)}; {fix}')
    return ConfigName(dataset, method, tokens[0], tokens[1],
                      '_'.join(tokens[2:]), path)


def scan(config_dir: str) -> List[ConfigName]:
    """Every config of every dataset folder (templates excluded)."""
    names = []
    for folder in sorted(os.listdir(config_dir)):
        sub = osp.join(config_dir, folder)
        if folder.startswith('_') or not osp.isdir(sub):
            continue
        names += [parse_name(osp.join(sub, f)) for f in sorted(os.listdir(sub))
                  if f.endswith('.py') and not f.startswith('_')]
    return names


RowKey = Tuple[str, str, str]  # method, encoder, protocol


def _order(key: RowKey) -> Tuple[int, int, int]:
    method, encoder, protocol = key
    return (list(METHODS).index(method), list(ENCODERS).index(encoder),
            list(PROTOCOLS).index(protocol))


def _rows(names: Sequence[ConfigName]) -> Dict[str, Dict[RowKey, List[str]]]:
    """dataset -> (method, encoder, protocol) -> streams, in table order."""
    out: Dict[str, Dict[RowKey, List[str]]] = {}
    for n in names:
        row = out.setdefault(n.dataset, {}).setdefault(
            (n.method, n.encoder, n.protocol), [])
        row.append(n.stream)
    return {
        d: {k: sorted(v, key=STREAMS.index)
            for k, v in sorted(out[d].items(), key=lambda kv: _order(kv[0]))}
        for d in DATASETS if d in out
    }


def _pattern(method: str, encoder: str, protocol: str) -> str:
    parts = [p for p in (method, encoder, '<s>', protocol) if p]
    return '`' + '_'.join(parts) + '.py`'


def render(names: Sequence[ConfigName]) -> str:
    """The Markdown of ``docs/configs.md``."""
    rows = _rows(names)
    lines = [
        '# Configs by dataset, method and stream', '',
        'Generated from the file names under `configs/` by '
        '`python tools/misc/config_table.py --write`; '
        '`tests/tools/test_config_table.py` fails when this page and the '
        f'configs disagree. {len(names)} configs in {len(rows)} dataset '
        'folders.', '',
        'Streams `<s>`: `j` joint, `b` bone, `jm` joint motion, `bm` bone '
        "motion, `m` motion (SkeAttnCLR's joint motion). A method config "
        'trains the encoder of the same row with a training-only head; its '
        'checkpoint tests in the plain encoder config of the same stream. '
        "SkeAttnCLR's pretraining checkpoint is loaded by the linear, "
        'finetune and semi-supervised configs of the same stream.', '',
        '## Overview', '',
    ]
    keys = sorted({(m, e) for d in rows.values() for m, e, _ in d},
                  key=lambda k: _order((k[0], k[1], '')))
    lines.append('| method | encoder | ' + ' | '.join(
        f'`{d}`' for d in rows) + ' |')
    lines.append('|---|---|' + '---|' * len(rows))
    for method, encoder in keys:
        cells = ['✓' if any(m == method and e == encoder for m, e, _ in r)
                 else '-' for r in rows.values()]
        lines.append(f'| {METHODS[method]} | {ENCODERS[encoder]} | ' +
                     ' | '.join(cells) + ' |')
    for dataset, table in rows.items():
        lines += ['', f'## `configs/{dataset}/`: {DATASETS[dataset]}', '',
                  '| method | encoder | protocol | streams | files |',
                  '|---|---|---|---|---|']
        for (method, encoder, protocol), streams in table.items():
            lines.append(
                f'| {METHODS[method]} | {ENCODERS[encoder]} | '
                f'{PROTOCOLS[protocol]} | {" ".join(streams)} | '
                f'{_pattern(method, encoder, protocol)} |')
    return '\n'.join(lines) + '\n'


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point; the exit status (``--check``: 1 when stale)."""
    p = argparse.ArgumentParser(
        description='Table of the shipped configs by dataset, method, '
        'encoder and stream (Markdown)')
    p.add_argument('--configs', default=osp.join(REPO, 'configs'),
                   help='config folder to read')
    p.add_argument('--doc', default=osp.join(REPO, DOC),
                   help='the page --write updates and --check compares')
    mode = p.add_mutually_exclusive_group()
    mode.add_argument('--write', action='store_true',
                      help='write the table to --doc')
    mode.add_argument('--check', action='store_true',
                      help='exit 1 if --doc is not the current table')
    args = p.parse_args(argv)
    try:
        text = render(scan(args.configs))
    except ValueError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    if args.write:
        with open(args.doc, 'w', encoding='utf-8') as f:
            f.write(text)
        print(f'wrote {args.doc}')
    elif args.check:
        current = open(args.doc, encoding='utf-8').read() \
            if osp.isfile(args.doc) else None
        if current != text:
            print(f'{args.doc} is stale: run python tools/misc/'
                  'config_table.py --write', file=sys.stderr)
            return 1
        print(f'{args.doc} is current')
    else:
        sys.stdout.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
