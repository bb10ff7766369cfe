"""The SkeAttnCLR demo behind ``make demo-skeattnclr``: self-supervised
pretraining on the bundled demo set (labels unused), its kNN accuracy, and
a linear probe of the pretrained frozen backbone against the same probe on
a randomly initialised frozen backbone (same seed, same data, same
schedule). Prints the three numbers; the probe gap is what pretraining
learned.

    python tools/run_demo_skeattnclr.py [--work-dir work_dirs/demo_skeattnclr]

The same protocol on real data (the README's NW-UCLA run):

    python tools/run_demo_skeattnclr.py \
        --pretrain configs/nwucla/skeattnclr_stgcn_j_pretrain.py \
        --linear configs/nwucla/skeattnclr_stgcn_j_linear.py \
        --ann-file /tmp/nwucla.pkl --work-dir work_dirs/nwucla_skeattnclr \
        --pretrain-options train_cfg.max_epochs=10 ... \
        --linear-options train_cfg.max_epochs=15 ...
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

TOOLS = osp.dirname(osp.abspath(__file__))
if TOOLS not in sys.path:  # the demo runner's helpers, also when imported
    sys.path.insert(0, TOOLS)
from run_demo import DATA, REPO, last_checkpoint, run  # noqa: E402

from mmskelcl.utils.cli import DefaultsHelpFormatter  # noqa: E402

PRETRAIN = osp.join('configs', 'demo', 'skeattnclr_stgcn_j_pretrain.py')
LINEAR = osp.join('configs', 'demo', 'skeattnclr_stgcn_j_linear.py')


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=' '.join(__doc__.split('\n\n')[0].split()),
        formatter_class=DefaultsHelpFormatter)
    p.add_argument('--work-dir', default=osp.join('work_dirs',
                                                  'demo_skeattnclr'),
                   help='root of the three runs and their results')
    p.add_argument('--seed', type=int, default=0,
                   help='training seed of all three runs (and demo data)')
    p.add_argument('--pretrain', default=PRETRAIN,
                   help='pretraining config (KNNValLoop validation)')
    p.add_argument('--linear', default=LINEAR,
                   help='linear-probe config of that pretraining')
    p.add_argument('--ann-file', help='annotation file of both configs '
                   '(tools/train.py --ann-file); default: the configs\'')
    p.add_argument('--pretrain-options', nargs='+', default=[],
                   help='--cfg-options of the pretraining (and its kNN)')
    p.add_argument('--linear-options', nargs='+', default=[],
                   help='--cfg-options of both linear probes')
    return p.parse_args()


def probe(args: argparse.Namespace, name: str, init: str) -> float:
    """Train the linear probe (``init``: a ``--cfg-options`` item setting
    the backbone's initialisation), test its last checkpoint; returns top-1
    on the config's test split."""
    work = osp.join(args.work_dir, name)
    run([sys.executable, 'tools/train.py', args.linear, '--work-dir', work,
         '--seed', str(args.seed), *ann(args), '--cfg-options', init,
         *args.linear_options])
    dump = osp.join(args.work_dir, f'{name}_scores.pkl')
    options = [o for o in args.linear_options
               if not o.startswith('train_cfg.')]
    run([sys.executable, 'tools/test.py', args.linear, last_checkpoint(work),
         '--stream-names', 'j', '--work-dir', osp.join(work, 'test'),
         *ann(args), '--dump', dump,
         *(['--cfg-options', *options] if options else [])])
    from mmskelcl.utils.safe_pickle import safe_load
    return safe_load(osp.join(REPO, dump))['metrics']['j']['top1']


def ann(args: argparse.Namespace) -> list:
    return ['--ann-file', args.ann_file] if args.ann_file else []


def main() -> None:
    args = parse_args()
    start = time.time()
    if args.pretrain == PRETRAIN and not osp.exists(osp.join(REPO, DATA)):
        run([sys.executable, '-m', 'mmskelcl.utils.demo_data', DATA,
             '--seed', str(args.seed)])
    pre = osp.join(args.work_dir, 'pretrain')
    opts = args.pretrain_options
    run([sys.executable, 'tools/train.py', args.pretrain, '--work-dir', pre,
         '--seed', str(args.seed), *ann(args),
         *(['--cfg-options', *opts] if opts else [])])
    ckpt = last_checkpoint(pre)
    knn_json = osp.join(args.work_dir, 'knn.json')
    knn_opts = [o for o in opts if not o.startswith('train_cfg.')]
    run([sys.executable, 'tools/knn_eval.py', args.pretrain, ckpt,
         '--work-dir', osp.join(pre, 'knn'), '--out', knn_json, *ann(args),
         *(['--cfg-options', *knn_opts] if knn_opts else [])])
    with open(osp.join(REPO, knn_json)) as f:
        knn = json.load(f)['metrics']
    pretrained = probe(args, 'linear_pretrained',
                       f'model.backbone.init_cfg.checkpoint={ckpt}')
    scratch = probe(args, 'linear_random', 'model.backbone.init_cfg=None')
    print(f'SkeAttnCLR: top-1 (%) on the test split of {args.linear}')
    for k in sorted(knn, key=lambda k: int(k.rsplit('k', 1)[-1])):
        print(f'  kNN of the pretrained features, {k}: '
              f'{100 * knn[k]:6.2f}')
    print(f'  linear probe, pretrained frozen backbone: '
          f'{100 * pretrained:6.2f}')
    print(f'  linear probe, random frozen backbone:     '
          f'{100 * scratch:6.2f}')
    print(f'demo finished in {(time.time() - start) / 60:.1f} min',
          flush=True)


if __name__ == '__main__':
    os.environ.setdefault('PYTHONUNBUFFERED', '1')
    main()
