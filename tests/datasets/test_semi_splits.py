"""tools/data/make_semi_splits.py: class-balanced, seeded, written once."""
import os.path as osp
import pickle
import subprocess
import sys
from collections import Counter

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'data', 'make_semi_splits.py')
sys.path.insert(0, osp.join(REPO, 'tools', 'data'))
from make_semi_splits import balanced_subset, subset_name  # noqa: E402


def _write(path):
    # class c has 10 * (c + 1) clips in 'train'; 'val' is separate
    annos, train = [], []
    for c in range(3):
        for j in range(10 * (c + 1)):
            name = f'c{c}_{j:02d}'
            annos.append(dict(frame_dir=name, label=c, total_frames=4))
            train.append(name)
    with open(path, 'wb') as f:
        pickle.dump(dict(split=dict(train=train, val=['c0_00']),
                         annotations=annos), f)


def _run(*args):
    return subprocess.run([sys.executable, TOOL, *args], capture_output=True,
                          text=True, timeout=120)


def test_counts_per_class_seed_and_order(tmp_path):
    path = str(tmp_path / 'a.pkl')
    _write(path)
    res = _run(path, '--split', 'train', '--ratios', '0.1', '0.25')
    assert res.returncode == 0, res.stderr
    with open(path, 'rb') as f:
        data = pickle.load(f)
    labels = {a['frame_dir']: a['label'] for a in data['annotations']}
    sub = data['split']['train_semi10']
    # round(0.1 * 10) = 1, round(0.1 * 20) = 2, round(0.1 * 30) = 3
    assert Counter(labels[i] for i in sub) == {0: 1, 1: 2, 2: 3}
    quarter = data['split']['train_semi25']  # 2.5 -> 2, 5, 7.5 -> 8
    assert Counter(labels[i] for i in quarter) == {0: 2, 1: 5, 2: 8}
    train = data['split']['train']
    assert sub == sorted(sub, key=train.index) and len(set(sub)) == len(sub)
    # same seed, same subset; another seed, another one
    assert balanced_subset(train, labels, 0.1, 0) == sub
    assert balanced_subset(train, labels, 0.25, 1) != quarter
    # at least one clip per class
    assert len(balanced_subset(train, labels, 0.01, 0)) == 3
    # rerun: unchanged; another seed: refused without --force
    assert 'unchanged' in _run(path, '--split', 'train', '--ratios',
                               '0.1').stdout
    res = _run(path, '--split', 'train', '--ratios', '0.1', '--seed', '3')
    assert res.returncode == 1 and '--force' in res.stderr
    res = _run(path, '--split', 'nope')
    assert res.returncode == 2 and "'train'" in res.stderr


def test_names():
    assert subset_name('xsub_train', 0.01) == 'xsub_train_semi1'
    assert subset_name('xsub_train', 0.1) == 'xsub_train_semi10'
    assert subset_name('xset_train', 0.005) == 'xset_train_semi0p5'
