"""NW-UCLA ``all_sqe/*.json`` -> pickle converter and its CLI.

Part (a) writes tiny json files in the real format; part (b) converts the
real release from the shared data folder (skipped where it is absent) and
trains one baseline config for two iterations on it (this part reads
configs/ on purpose: it checks the shipped NW-UCLA configs).
"""
import json
import os
import os.path as osp
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmskelcl.datasets.converters import nwucla
from mmskelcl.datasets.converters import (NWUCLAFormatError, convert_nwucla,
                                          summarize)
from mmskelcl.datasets.validation import check_annotations

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLI = osp.join(REPO, 'tools', 'data', 'nwucla_to_pkl.py')
REAL_DIR = os.environ.get('MMSKELCL_NWUCLA_DIR') or osp.normpath(
    osp.join(REPO, '..', 'shared', 'data', 'nwucla', 'all_sqe'))
LOAD_SEQUENCE = nwucla.load_sequence  # the unpatched per-file reader

# stem -> (frames, expected label); views 1-2 train, view 3 val
SEQS = {
    'a01_s01_e00_v01': (5, 0),
    'a05_s04_e00_v01': (3, 4),
    'a06_s02_e00_v02': (1, 5),  # one frame (the real data has two)
    'a08_s02_e01_v02': (4, 6),
    'a11_s03_e00_v03': (6, 8),
    'a12_s01_e02_v03': (2, 9),
}


def _coords(stem, frames):
    """[T][20][3] with a value that encodes (sequence, frame, joint)."""
    seq = sorted(SEQS).index(stem) if stem in SEQS else 7
    return [[[seq + 0.25 * j, -0.5 * j + 0.01 * t, 2.0 + 0.1 * t]
             for j in range(20)] for t in range(frames)]


def _write(folder, stem, payload=None, frames=4, label=True):
    if payload is None:
        payload = dict(file_name=stem, skeletons=_coords(stem, frames))
        if label and stem in SEQS:  # the real files carry a 1-based label
            payload['label'] = SEQS[stem][1] + 1
    path = osp.join(str(folder), stem + '.json')
    with open(path, 'w') as f:
        f.write(payload if isinstance(payload, str) else json.dumps(payload))
    return path


@pytest.fixture
def src(tmp_path):
    folder = tmp_path / 'all_sqe'
    folder.mkdir()
    for i, (stem, (frames, _)) in enumerate(sorted(SEQS.items())):
        _write(folder, stem, frames=frames, label=i % 2 == 0)
    (folder / 'README.md').write_text('not a json file, ignored')
    return folder


def _load(path):
    with open(path, 'rb') as f:
        return pickle.load(f)


def _leftovers(folder):
    return sorted(n for n in os.listdir(folder) if n.endswith('.tmp'))


# --------------------------------------------------------------- (a) tiny
def test_convert_shapes_labels_splits_values(src, tmp_path):
    out = str(tmp_path / 'out' / 'nwucla.pkl')
    data = convert_nwucla(str(src), out, progress=False)
    on_disk = _load(out)
    assert on_disk['split'] == data['split']
    assert [a['frame_dir'] for a in on_disk['annotations']] == sorted(SEQS)
    assert data['split'] == dict(
        train=['a01_s01_e00_v01', 'a05_s04_e00_v01', 'a06_s02_e00_v02',
               'a08_s02_e01_v02'],
        val=['a11_s03_e00_v03', 'a12_s01_e02_v03'])
    for anno in on_disk['annotations']:
        stem = anno['frame_dir']
        frames, label = SEQS[stem]
        assert anno['label'] == label and isinstance(anno['label'], int)
        assert anno['total_frames'] == frames
        kp = anno['keypoint']
        assert kp.dtype == np.float32 and kp.shape == (1, frames, 20, 3)
        # joint order and values exactly as in the json
        np.testing.assert_array_equal(
            kp[0], np.asarray(_coords(stem, frames), np.float32))
        assert kp[0, 0, 7, 0] == np.float32(sorted(SEQS).index(stem) + 1.75)
    assert check_annotations(on_disk, out, num_classes=10) == []
    for split in ('train', 'val'):
        assert check_annotations(on_disk, out, split, num_classes=10) == []
    assert {n: dict(c) for n, c in summarize(data).items()} == dict(
        train={0: 1, 4: 1, 5: 1, 6: 1}, val={8: 1, 9: 1})
    assert not osp.exists(out + '.partial') and not _leftovers(tmp_path)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(out).st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's


@pytest.mark.parametrize('stem,payload,match', [
    ('a01_s01_e00_v01', dict(file_name='x'), 'no "skeletons" key'),
    ('a01_s01_e00_v01', [[[0, 0, 0]] * 20], 'no "skeletons" key'),
    ('a01_s01_e00_v01', '{"skeletons": [[[0, 0', 'invalid json'),
    ('a01_s01_e00_v01', dict(skeletons=[[[0, 0, 0]] * 19]), r'\(1, 19, 3\)'),
    ('a01_s01_e00_v01', dict(skeletons=[[[0, 0]] * 20]), r'\(1, 20, 2\)'),
    ('a01_s01_e00_v01', dict(skeletons=[]), r'got \(0,\)'),
    ('a01_s01_e00_v01', dict(skeletons=[[[0, 0, 0]] * 20, [[0, 0, 0]] * 19]),
     'not a numeric'),
    ('a01_s01_e00_v01', dict(skeletons=[[['a', 0, 0]] * 20]),
     'not a numeric'),
    ('a01_s01_e00_v01', dict(skeletons=[[[float('nan'), 0, 0]] * 20]),
     '20 NaN/inf'),
    ('a01_s01_e00_v01', dict(skeletons=[[[0, 0, 0]] * 20], label=3),
     '"label" is 3'),
    ('a07_s01_e00_v01', None, 'unknown action id a07'),
    ('a10_s01_e00_v02', None, 'unknown action id a10'),
    ('a01_s01_e00_v04', None, 'unknown view v04'),
    ('sequence_1', None, 'aAA_sSS_eEE_vVV'),
])
def test_malformed_input_names_the_file(tmp_path, stem, payload, match):
    folder = tmp_path / 'bad'
    folder.mkdir()
    path = _write(folder, stem, payload)
    out = str(tmp_path / 'out.pkl')
    with pytest.raises(NWUCLAFormatError, match=match) as info:
        convert_nwucla(str(folder), out, progress=False)
    assert path in str(info.value)
    assert not osp.exists(out) and not _leftovers(tmp_path)


def test_missing_or_empty_source(tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere'):
        convert_nwucla(str(tmp_path / 'nowhere'), str(tmp_path / 'o.pkl'))
    with pytest.raises(FileNotFoundError, match=r'no \*\.json'):
        convert_nwucla(str(tmp_path), str(tmp_path / 'o.pkl'))


def test_failure_keeps_previous_output_and_leaves_no_temp(src, tmp_path,
                                                          monkeypatch):
    out = tmp_path / 'nwucla.pkl'
    out.write_bytes(b'previous')
    _write(src, 'a12_s09_e00_v03', dict(skeletons=[[[0, 0, 0]] * 21]))
    with pytest.raises(NWUCLAFormatError, match='a12_s09_e00_v03.json'):
        convert_nwucla(str(src), str(out), progress=False)
    assert out.read_bytes() == b'previous' and not _leftovers(tmp_path)

    # a failure while writing the output itself: same guarantees
    os.remove(src / 'a12_s09_e00_v03.json')

    def broken_dump(obj, f, protocol=None):
        f.write(b'half a pickle')
        raise OSError('disk full')

    monkeypatch.setattr(nwucla.pickle, 'dump', broken_dump)
    with pytest.raises(OSError, match='disk full'):
        convert_nwucla(str(src), str(out), resume=False, progress=False)
    assert out.read_bytes() == b'previous' and not _leftovers(tmp_path)


def _recording_loader(monkeypatch, stop_after=None, on_call=None):
    """Patch the per-file reader; record the stems it reads."""
    calls = []

    def load(path):
        if stop_after is not None and len(calls) == stop_after:
            raise KeyboardInterrupt  # the run is killed here
        if on_call is not None:
            on_call(len(calls))
        calls.append(osp.splitext(osp.basename(path))[0])
        return LOAD_SEQUENCE(path)

    monkeypatch.setattr(nwucla, 'load_sequence', load)
    return calls


def test_resume_after_kill_reads_only_the_rest(src, tmp_path, monkeypatch):
    out = str(tmp_path / 'nwucla.pkl')
    cache = out + '.partial'
    cached_counts = []

    def look_at_cache(num_done):  # what a SIGKILL now would leave behind
        items = _load(cache)['items'] if osp.exists(cache) else {}
        cached_counts.append(len(items))

    calls = _recording_loader(monkeypatch, stop_after=4,
                              on_call=look_at_cache)
    with pytest.raises(KeyboardInterrupt):
        convert_nwucla(str(src), out, save_every=2, progress=False)
    assert calls == sorted(SEQS)[:4]
    assert cached_counts == [0, 0, 2, 2]  # saved every 2 files
    assert not osp.exists(out)
    assert sorted(_load(cache)['items']) == [s + '.json' for s in calls]

    calls = _recording_loader(monkeypatch)
    data = convert_nwucla(str(src), out, progress=False)
    assert calls == sorted(SEQS)[4:]  # the first four are not re-read
    assert not osp.exists(cache) and not _leftovers(tmp_path)
    fresh = convert_nwucla(str(src), str(tmp_path / 'fresh.pkl'),
                           progress=False)
    assert data['split'] == fresh['split'] == _load(out)['split']
    for a, b in zip(_load(out)['annotations'], fresh['annotations']):
        assert a['frame_dir'] == b['frame_dir'] and a['label'] == b['label']
        np.testing.assert_array_equal(a['keypoint'], b['keypoint'])


def test_resume_rereads_changed_files_and_honours_no_resume(
        src, tmp_path, monkeypatch):
    out = str(tmp_path / 'nwucla.pkl')
    _recording_loader(monkeypatch, stop_after=3)
    with pytest.raises(KeyboardInterrupt):
        convert_nwucla(str(src), out, progress=False)
    # a cached file changes on disk (size / mtime): read again
    changed = sorted(SEQS)[1]
    _write(src, changed, frames=7)
    calls = _recording_loader(monkeypatch)
    data = convert_nwucla(str(src), out, progress=False)
    assert calls == [changed] + sorted(SEQS)[3:]
    assert data['annotations'][1]['total_frames'] == 7

    _recording_loader(monkeypatch, stop_after=2)
    with pytest.raises(KeyboardInterrupt):
        convert_nwucla(str(src), out, progress=False)
    calls = _recording_loader(monkeypatch)
    convert_nwucla(str(src), out, resume=False, progress=False)
    assert calls == sorted(SEQS)

    # a cache made from another source folder is ignored
    other = tmp_path / 'copy'
    other.mkdir()
    for stem, (frames, _) in SEQS.items():
        _write(other, stem, frames=frames)
    _recording_loader(monkeypatch, stop_after=2)
    with pytest.raises(KeyboardInterrupt):
        convert_nwucla(str(other), out, progress=False)
    calls = _recording_loader(monkeypatch)
    convert_nwucla(str(src), out, progress=False)
    assert calls == sorted(SEQS)


def test_cli_prints_counts(src, tmp_path):
    out = tmp_path / 'cli' / 'nwucla.pkl'
    proc = subprocess.run(
        [sys.executable, 'tools/data/nwucla_to_pkl.py', str(src), str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert 'train: 4' in text and 'val: 2' in text
    assert 'check_annotations: OK' in text
    rows = {line.split()[0]: line.split()[-2:] for line in text.splitlines()
            if line.strip()[:1].isdigit()}
    assert rows['0'] == ['1', '0'] and rows['6'] == ['1', '0']
    assert rows['8'] == ['0', '1'] and rows['3'] == ['0', '0']
    assert len(rows) == 10 and out.is_file()


# ---------------------------------------------------------- (b) real data
@pytest.fixture(scope='module')
def real_pkl(tmp_path_factory):
    if not osp.isdir(REAL_DIR):
        pytest.skip(
            f'NW-UCLA real data not found: {REAL_DIR} is missing. It is the '
            'shared data folder of the development machines (not part of '
            'the repository, so CI machines may not have it); set '
            'MMSKELCL_NWUCLA_DIR to an all_sqe/ folder of *.json to run '
            'this test.')
    out = str(tmp_path_factory.mktemp('nwucla_real') / 'nwucla.pkl')
    data = convert_nwucla(REAL_DIR, out, progress=False)
    return out, data


def test_real_data_conversion(real_pkl):
    out, data = real_pkl
    assert check_annotations(_load(out), out, num_classes=10) == []
    assert len(data['annotations']) == 1484
    assert (len(data['split']['train']), len(data['split']['val'])) == (1020,
                                                                       464)
    assert all(s.endswith(('_v01', '_v02')) for s in data['split']['train'])
    assert all(s.endswith('_v03') for s in data['split']['val'])
    counts = summarize(data)
    assert sorted(counts['train']) == sorted(counts['val']) == list(range(10))
    for anno in data['annotations'][::97]:
        with open(osp.join(REAL_DIR, anno['frame_dir'] + '.json')) as f:
            raw = json.load(f)
        assert anno['label'] == raw['label'] - 1
        np.testing.assert_array_equal(
            anno['keypoint'][0], np.asarray(raw['skeletons'], np.float32))


@pytest.mark.parametrize('stream', ['j', 'bm'])
def test_real_data_trains_baseline_config(real_pkl, tmp_path, stream):
    out, _ = real_pkl
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'nwucla', f'ctrgcn_{stream}.py'))
    cfg.merge_from_dict({  # what --cfg-options would set
        'work_dir': str(tmp_path / 'work'),
        'train_dataloader.dataset.dataset.ann_file': out,
        'val_dataloader.dataset.ann_file': out,
        'test_dataloader.dataset.ann_file': out,
        'train_dataloader.batch_size': 4,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'default_hooks.logger.interval': 1,
        'log_processor.by_epoch': False,
        'log_level': 'WARNING',
    })
    # two iterations, no validation, no checkpoint (--no-validate)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint = None
    runner = Runner.from_cfg(cfg)
    before = {k: v.detach().clone()
              for k, v in runner.model.named_parameters()}
    runner.train()
    assert runner.iter == 2
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert np.isfinite(loss) and loss > 0
    changed = [k for k, v in runner.model.named_parameters()
               if not torch.equal(v, before[k])]
    assert changed, 'no parameter was updated'

    dataset = runner.train_dataloader.dataset  # RepeatDataset(times=5)
    assert len(dataset) == 5 * 1020 and dataset.dataset.stream == stream
    sample = dataset[0]
    assert tuple(sample['inputs'].shape) == (1, 1, 52, 20, 3)  # clips, M
    assert torch.isfinite(sample['inputs']).all()
