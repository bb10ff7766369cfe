"""The SkeAttnCLR demo behind ``make demo-skeattnclr``: self-supervised
pretraining on the bundled demo set (labels unused), its kNN accuracy, and
a linear probe of the pretrained frozen backbone against the same probe on
a randomly initialised frozen backbone (same seed, same data, same
schedule). Prints the three numbers; the probe gap is what pretraining
learned.

    python tools/run_demo_skeattnclr.py [--work-dir work_dirs/demo_skeattnclr]
"""
import argparse
import json
import os
import os.path as osp
import pickle
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DATA = osp.join('data', 'demo', 'finegym_demo.pkl')
PRETRAIN = osp.join('configs', 'demo', 'skeattnclr_stgcn_j_pretrain.py')
LINEAR = osp.join('configs', 'demo', 'skeattnclr_stgcn_j_linear.py')
if REPO not in sys.path:  # runnable from a checkout without installing
    sys.path.insert(0, REPO)
from mmskelcl.utils.cli import DefaultsHelpFormatter  # noqa: E402


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=' '.join(__doc__.split('\n\n')[0].split()),
        formatter_class=DefaultsHelpFormatter)
    p.add_argument('--work-dir', default=osp.join('work_dirs',
                                                  'demo_skeattnclr'),
                   help='root of the three runs and their results')
    p.add_argument('--seed', type=int, default=0,
                   help='training seed of all three runs (and demo data)')
    return p.parse_args()


def run(cmd) -> None:
    print('$', ' '.join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=REPO)


def last_checkpoint(work_dir: str) -> str:
    with open(osp.join(REPO, work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def probe(work_root: str, name: str, seed: int, init: str) -> float:
    """Train the linear probe (``init``: a checkpoint or ``None``), test its
    last checkpoint; returns top-1 on the val split."""
    work = osp.join(work_root, name)
    run([sys.executable, 'tools/train.py', LINEAR, '--work-dir', work,
         '--seed', str(seed), '--cfg-options',
         f'model.backbone.init_cfg={init}'])
    dump = osp.join(work_root, f'{name}_scores.pkl')
    run([sys.executable, 'tools/test.py', LINEAR, last_checkpoint(work),
         '--stream-names', 'j', '--work-dir', osp.join(work, 'test'),
         '--dump', dump])
    with open(osp.join(REPO, dump), 'rb') as f:
        return pickle.load(f)['metrics']['j']['top1']


def main() -> None:
    args = parse_args()
    start = time.time()
    if not osp.exists(osp.join(REPO, DATA)):
        run([sys.executable, '-m', 'mmskelcl.utils.demo_data', DATA,
             '--seed', str(args.seed)])
    pre = osp.join(args.work_dir, 'pretrain')
    run([sys.executable, 'tools/train.py', PRETRAIN, '--work-dir', pre,
         '--seed', str(args.seed)])
    ckpt = last_checkpoint(pre)
    knn_json = osp.join(args.work_dir, 'knn.json')
    run([sys.executable, 'tools/knn_eval.py', PRETRAIN, ckpt, '--work-dir',
         osp.join(pre, 'knn'), '--out', knn_json])
    with open(osp.join(REPO, knn_json)) as f:
        knn = json.load(f)
    pretrained = probe(args.work_dir, 'linear_pretrained', args.seed,
                       f"dict(type='Pretrained',checkpoint='{ckpt}',"
                       "prefix='backbone.')")
    scratch = probe(args.work_dir, 'linear_random', args.seed, 'None')
    print('SkeAttnCLR demo: top-1 (%) on the demo val split (80 clips, '
          '8 classes, chance 12.5)')
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
