"""End-to-end tests of tools/test.py on a tiny 2D COCO-17 dataset (CPU).

A 12-sample, 3-class skeleton pickle, two stream configs (joint and bone)
with MMAction2's STGCN and random checkpoints are written to a temporary
folder; ``tools/test.py`` runs in a subprocess from that folder.
"""
import os
import os.path as osp
import pickle
import subprocess
import sys
from types import ModuleType

import numpy as np
import pytest
import torch
from mmengine.config import Config
from numpy.testing import assert_allclose

import mmskelcl  # noqa: F401  (stack fixes, registries)
from mmskelcl.apis.test_streams import build_stream_cfg, ensure_frame_dir
from mmskelcl.evaluation import fuse_score_files, load_score_file
from tool_helpers import load_module

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'test.py')
NUM_CLASSES = 3
VAL_IDS = [f'S{i:03d}' for i in range(6, 12)]

CONFIG = """
default_scope = 'mmaction'
custom_imports = dict(imports=['mmskelcl'], allow_failed_imports=False)
model = dict(
    type='RecognizerGCN',
    backbone=dict(
        type='STGCN',
        graph_cfg=dict(layout='coco', mode='stgcn_spatial'),
        num_stages=2, base_channels=8, inflate_stages=[], down_stages=[]),
    cls_head=dict(type='GCNHead', num_classes={num_classes}, in_channels=8))
test_pipeline = [
    dict(type='PreNormalize2D'),
    dict(type='GenSkeFeat', dataset='coco', feats=['{feat}']),
    dict(type='UniformSampleFrames', clip_len=8, num_clips=1,
         test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=1),
    {pack},
]
test_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='PoseDataset', ann_file={ann_file!r},
                 pipeline=test_pipeline, split='val', test_mode=True))
test_evaluator = [dict(type='AccMetric')]
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=1))
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='gloo'))
log_level = 'WARNING'
"""

# the joint config lists frame_dir; the bone config uses PackActionInputs'
# defaults, so the tool has to add frame_dir itself
PACKS = {
    'j': "dict(type='PackActionInputs', meta_keys=('frame_dir', "
    "'sample_idx'))",
    'b': "dict(type='PackActionInputs')",
}


def _write_dataset(path: str) -> None:
    rng = np.random.default_rng(0)
    annotations = []
    for i in range(12):
        xy = rng.random((1, 20, 17, 2)) * np.array([640, 480])
        annotations.append(
            dict(
                frame_dir=f'S{i:03d}',
                label=i % NUM_CLASSES,
                img_shape=(480, 640),
                original_shape=(480, 640),
                total_frames=20,
                keypoint=xy.astype(np.float32),
                keypoint_score=rng.random((1, 20, 17)).astype(np.float32)))
    split = dict(
        train=[a['frame_dir'] for a in annotations[:6]],
        val=[a['frame_dir'] for a in annotations[6:]])
    with open(path, 'wb') as f:
        pickle.dump(dict(split=split, annotations=annotations), f)


def _write_checkpoint(config: str, path: str, seed: int) -> None:
    from mmengine.registry import init_default_scope

    from mmaction.registry import MODELS
    init_default_scope('mmaction')
    torch.manual_seed(seed)
    model = MODELS.build(Config.fromfile(config).model)
    model.init_weights()
    with torch.no_grad():  # non-trivial, stream-specific predictions
        model.cls_head.fc.weight.normal_(0, 5.0)
    torch.save(dict(meta=dict(), state_dict=model.state_dict()), path)


@pytest.fixture(scope='module')
def workspace(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp('test_tool')
    ann_file = str(root / 'tiny_coco17.pkl')
    _write_dataset(ann_file)
    files = dict(root=root)
    for seed, feat in enumerate(('j', 'b')):
        config = str(root / f'tiny_stgcn_{feat}.py')
        with open(config, 'w') as f:
            f.write(
                CONFIG.format(
                    num_classes=NUM_CLASSES,
                    feat=feat,
                    pack=PACKS[feat],
                    ann_file=ann_file))
        checkpoint = str(root / f'{feat}.pth')
        _write_checkpoint(config, checkpoint, seed)
        files[feat] = (config, checkpoint)
    return files


def _run(args: list, cwd) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, TOOL] + args,
                          cwd=str(cwd),
                          capture_output=True,
                          text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def _table_rows(stdout: str) -> dict:
    """{row name: [weight, top1, top5, mean1]} of the printed table."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines)
                 if line.startswith('Stream fusion'))
    rows = {}
    for line in lines[start + 3:]:
        cells = [c.strip() for c in line.split('|')]
        if len(cells) != 5:
            if set(line.strip()) <= set('-+ '):
                continue
            break
        rows[cells[0]] = cells[1:]
    return rows


@pytest.fixture(scope='module')
def single_run(workspace) -> dict:
    root = workspace['root']
    config, checkpoint = workspace['j']
    proc = _run([config, checkpoint, '--dump', 'single.pkl'], cwd=root)
    return dict(proc=proc, dump=root / 'single.pkl')


@pytest.fixture(scope='module')
def multi_run(workspace) -> dict:
    root = workspace['root']
    args = list(workspace['j'] + workspace['b']) + [
        '--weights', '2', '1', '--stream-names', 'j', 'b', '--work-dir',
        'wd', '--dump', 'out/fused.pkl'
    ]
    proc = _run(args, cwd=root)
    return dict(proc=proc, dump=root / 'out' / 'fused.pkl')


def _load(path) -> dict:
    with open(path, 'rb') as f:
        return pickle.load(f)


def test_single_stream(workspace, single_run):
    root = workspace['root']
    rows = _table_rows(single_run['proc'].stdout)
    assert list(rows) == ['tiny_stgcn_j']  # no fused row for one stream
    dump = _load(single_run['dump'])
    assert dump['streams'] == ['tiny_stgcn_j']
    assert dump['ids'] == VAL_IDS
    assert dump['labels'].tolist() == [i % NUM_CLASSES for i in range(6, 12)]
    scores = dump['stream_scores']['tiny_stgcn_j']
    assert scores.shape == (6, NUM_CLASSES)
    assert_allclose(scores.sum(axis=1), 1.0, rtol=1e-5)  # 'prob' averaging
    # MMAction2's AccMetric of the same run agrees with our metrics
    meta = dump['meta']['tiny_stgcn_j']
    assert meta['average_clips'] == 'prob'
    ours = dump['metrics']['tiny_stgcn_j']
    for key in ('top1', 'top5', 'mean1'):
        assert ours[key] == pytest.approx(meta['runner_metrics'][f'acc/{key}'])
        assert rows['tiny_stgcn_j'][['top1', 'top5', 'mean1'].index(key) +
                                    1] == f'{100 * ours[key]:.2f}'
    # default work dir work_dirs/<config folder>/<config stem> (as
    # tools/train.py); with --dump the DumpResults file is kept in it
    per_stream = root / 'work_dirs' / root.name / 'tiny_stgcn_j' / \
        'tiny_stgcn_j_results.pkl'
    assert per_stream.is_file()


def test_two_streams(workspace, single_run, multi_run):
    root = workspace['root']
    rows = _table_rows(multi_run['proc'].stdout)
    assert list(rows) == ['j', 'b', 'fused']
    assert rows['j'][0] == '2' and rows['b'][0] == '1'
    dump = _load(multi_run['dump'])
    assert dump['format'] == 'mmskelcl.fusion'
    assert dump['ids'] == VAL_IDS
    assert dump['streams'] == ['j', 'b'] and dump['weights'] == [2.0, 1.0]
    j, b = dump['stream_scores']['j'], dump['stream_scores']['b']
    assert j.shape == b.shape == dump['fused'].shape == (6, NUM_CLASSES)
    assert_allclose(dump['fused'], 2 * j + b, rtol=1e-6)
    assert not np.allclose(j, b)  # the two streams really differ
    # the joint stream gives the same scores as the single-stream run
    single = _load(single_run['dump'])['stream_scores']['tiny_stgcn_j']
    assert_allclose(j, single, rtol=1e-5)
    for name in ('j', 'b', 'fused'):
        assert rows[name][1] == f'{100 * dump["metrics"][name]["top1"]:.2f}'
    # each stream ran in WORK_DIR/<stream>; the bone config got frame_dir
    # added to PackActionInputs by the tool
    b_results = root / 'wd' / 'b' / 'b_results.pkl'
    (stream, ) = load_score_file(str(b_results))
    assert sorted(stream.ids) == VAL_IDS


def test_fuse_dumps(workspace, multi_run):
    root = workspace['root']
    fused = _load(multi_run['dump'])
    proc = _run([
        '--fuse', 'wd/b/b_results.pkl', 'wd/j/j_results.pkl', '--weights',
        '1', '2', '--stream-names', 'b', 'j', '--dump', 'refused.pkl'
    ],
                cwd=root)
    rows = _table_rows(proc.stdout)
    assert list(rows) == ['b', 'j', 'fused']
    refused = _load(root / 'refused.pkl')
    assert refused['ids'] == sorted(refused['ids'])  # b's dataset order
    order = [fused['ids'].index(i) for i in refused['ids']]
    assert_allclose(refused['fused'], fused['fused'][order], rtol=1e-6)
    assert refused['metrics']['fused'] == pytest.approx(
        fused['metrics']['fused'])
    # the multi-stream dump itself can be re-fused in-process
    again = fuse_score_files([str(multi_run['dump'])], ['1', '1'])
    assert_allclose(again.fused, fused['stream_scores']['j'] +
                    fused['stream_scores']['b'])


def test_frame_dir_added_to_test_pipeline(workspace, tmp_path):
    config, checkpoint = workspace['b']
    cfg, dump_path = build_stream_cfg(
        config, checkpoint, 'b', work_dir=str(tmp_path), multi_stream=True)
    pack = cfg.test_dataloader.dataset.pipeline[-1]
    assert 'frame_dir' in pack.meta_keys
    assert 'img_shape' in pack.meta_keys  # PackActionInputs' defaults kept
    assert cfg.test_evaluator[-1] == dict(
        type='DumpResults', out_file_path=dump_path)
    assert dump_path == osp.join(str(tmp_path), 'b', 'b_results.pkl')
    assert cfg.load_from == checkpoint
    # wrapped datasets are patched too, and frame_dir is not duplicated
    cfg.test_dataloader.dataset = dict(
        type='RepeatDataset', times=2, dataset=cfg.test_dataloader.dataset)
    assert ensure_frame_dir(cfg) == 1
    keys = cfg.test_dataloader.dataset.dataset.pipeline[-1].meta_keys
    assert list(keys).count('frame_dir') == 1


def _load_tool() -> ModuleType:
    return load_module(TOOL, 'mmskelcl_test_tool')


def test_cli_argument_errors(capsys):
    tool = _load_tool()
    args = tool.parse_args(
        ['a.py', 'a.pth', 'b.py', 'b.pth', '--weights', '2', '1'])
    assert args.pairs == ['a.py', 'a.pth', 'b.py', 'b.pth']
    with pytest.raises(SystemExit):
        tool.parse_args(['a.py', 'a.pth', 'b.py', 'b.pth', '--weights', '1'])
    assert 'gives 1 weights [1.0] but there are 2 streams' in \
        capsys.readouterr().err
    with pytest.raises(SystemExit):
        tool.parse_args(['a.py', 'a.pth', '--weights', 'ctrgcn'])
    assert 'preset' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        tool.parse_args(['a.py', 'a.pth', 'b.py'])
    assert 'pairs' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        tool.parse_args(['a.py', 'a.pth', '--fuse', 'x.pkl'])
    with pytest.raises(SystemExit):
        tool.parse_args([])


def test_logs_allocator_and_threads_and_names_a_missing_score_file(tmp_path):
    """The tool says which allocator and how many threads it runs with
    (read from its own maps: ``MMSKELCL_ALLOCATOR=glibc`` says glibc), and
    a missing ``--fuse`` file is one line naming it, not a traceback."""
    missing = str(tmp_path / 'j.pkl')
    env = dict(os.environ, MMSKELCL_ALLOCATOR='glibc', OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, TOOL, '--fuse', missing, missing],
                          cwd=tmp_path, capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 1
    assert 'mmskelcl allocator: glibc; torch threads: 1 of' in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        f'error: --fuse: {missing}: No such file or directory')
    assert 'Traceback' not in proc.stderr
