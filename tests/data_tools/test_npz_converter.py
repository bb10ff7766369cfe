"""CTR-GCN / FR-Head ``.npz`` -> pickle (tools/data/npz_to_pkl.py).

The npz is written as CTR-GCN's ``seq_transformation.py`` saves it:
``x_*`` (N, T, 150) zero-padded, person-major (2 persons x 25 joints x 3),
``y_*`` one-hot (N, 60).
"""
import os.path as osp

import numpy as np
import pytest

from mmskelcl.datasets.converters import npz as npz_mod
from mmskelcl.datasets.converters.npz import NPZFormatError, convert_npz
from ._helpers import leftovers, load, load_tool, train_one_iter

npz_to_pkl = load_tool('npz_to_pkl')
check_pkl = load_tool('check_pkl')
T_PAD = 20
# (valid frames, persons, label) per sample
TRAIN = [(12, 1, 5), (20, 2, 0), (7, 1, 59)]
TEST = [(9, 2, 1), (4, 1, 2)]


def _value(sample, person, t, joint, coord):
    return 1 + sample + 10 * person + 0.001 * t + 0.01 * joint + 0.1 * coord


def _x(spec, offset=0):
    x = np.zeros((len(spec), T_PAD, 2, 25, 3), np.float32)
    for n, (frames, persons, _) in enumerate(spec):
        for m in range(persons):
            t, j, c = np.meshgrid(np.arange(frames), np.arange(25),
                                  np.arange(3), indexing='ij')
            x[n, :frames, m] = _value(n + offset, m, t, j, c)
    return x.reshape(len(spec), T_PAD, 150)


def _y(spec):
    return np.eye(60, dtype=np.float32)[[label for _, _, label in spec]]


@pytest.fixture
def npz_file(tmp_path):
    path = str(tmp_path / 'NTU60_CS.npz')
    np.savez(path, x_train=_x(TRAIN), y_train=_y(TRAIN),
             x_test=_x(TEST, 100), y_test=_y(TEST))
    return path


def _check(data, spec, part, offset=0):
    annos = {a['frame_dir']: a for a in data['annotations']}
    for n, (frames, persons, label) in enumerate(spec):
        anno = annos[f'{part}_{n:06d}']
        assert anno['label'] == label and isinstance(anno['label'], int)
        assert anno['total_frames'] == frames
        kp = anno['keypoint']
        assert kp.dtype == np.float32
        assert kp.shape == (persons, frames, 25, 3)
        m, t, j, c = np.meshgrid(np.arange(persons), np.arange(frames),
                                 np.arange(25), np.arange(3), indexing='ij')
        np.testing.assert_allclose(kp, _value(n + offset, m, t, j, c),
                                   rtol=1e-6)


def test_convert_shapes_labels_splits_values(npz_file, tmp_path):
    out = str(tmp_path / 'out' / 'ntu60_xsub.pkl')
    data = convert_npz(npz_file, out, ('xsub_train', 'xsub_val'),
                       progress=False)
    on_disk = load(out)
    assert on_disk['split'] == data['split'] == dict(
        xsub_train=['train_000000', 'train_000001', 'train_000002'],
        xsub_val=['test_000000', 'test_000001'])
    _check(on_disk, TRAIN, 'train')
    _check(on_disk, TEST, 'test', 100)
    # joint order by hand: sample 1, person 1, frame 3, joint 7, y
    kp = on_disk['annotations'][1]['keypoint']
    assert kp[1, 3, 7, 1] == np.float32(1 + 1 + 10 + 0.003 + 0.07 + 0.1)
    assert check_pkl.main([out, '--num-classes', '60']) == 0
    assert not osp.exists(out + '.partial') and not leftovers(tmp_path)


def test_compressed_and_nctvm_inputs(tmp_path):
    x = _x(TRAIN).reshape(3, T_PAD, 2, 25, 3)
    path = str(tmp_path / 'c.npz')
    np.savez_compressed(path, x_train=x.transpose(0, 4, 1, 3, 2),
                        y_train=np.array([5, 0, 59]),
                        x_test=x[:1].transpose(0, 4, 1, 3, 2),
                        y_test=np.array([5]))
    data = convert_npz(path, str(tmp_path / 'c.pkl'), axes='NCTVM',
                       num_classes=60, progress=False)
    _check(data, TRAIN, 'train')
    assert data['split']['val'] == ['test_000000']


@pytest.mark.parametrize('change,match', [
    (dict(y_train=np.eye(60)[[5, 0, 59]] * 2), r"y_train\[0\] is not one-hot"),
    (dict(y_train=np.eye(60)[[5, 0]]), 'x_train has 3 samples but y_train '
     'has 2'),
    (dict(x_train=_x(TRAIN)[:, :, :140]), r'x_train\[0\]: 140 values'),
    (dict(x_train=np.concatenate([_x(TRAIN)[:2], np.zeros((1, 20, 150))])),
     r'x_train\[2\]: every frame is zero'),
    (dict(y_test=None), "'y_test' not found"),
])
def test_malformed_npz_names_file_and_sample(tmp_path, change, match):
    arrays = dict(x_train=_x(TRAIN), y_train=_y(TRAIN), x_test=_x(TEST),
                  y_test=_y(TEST))
    arrays.update(change)
    path = str(tmp_path / 'bad.npz')
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    out = tmp_path / 'bad.pkl'
    with pytest.raises(NPZFormatError, match=match) as info:
        convert_npz(path, str(out), progress=False)
    assert path in str(info.value)
    assert not out.exists() and not leftovers(tmp_path)


def test_resume_after_kill_and_cli(npz_file, tmp_path, monkeypatch, capsys):
    out = str(tmp_path / 'n.pkl')
    make_sample, calls = npz_mod.make_sample, []

    def killed_after_three(x, label, sample_id, where=''):
        if len(calls) == 3:
            raise KeyboardInterrupt
        calls.append(sample_id)
        return make_sample(x, label, sample_id, where)

    monkeypatch.setattr(npz_mod, 'make_sample', killed_after_three)
    with pytest.raises(KeyboardInterrupt):
        convert_npz(npz_file, out, save_every=1, progress=False)
    assert not osp.exists(out) and calls == [
        'train_000000', 'train_000001', 'train_000002']
    calls.clear()
    monkeypatch.setattr(npz_mod, 'make_sample', lambda *a: (
        calls.append(a[2]), make_sample(*a))[1])
    assert npz_to_pkl.main([npz_file, out, '--splits', 'xsub_train',
                            'xsub_val']) == 0
    assert calls == ['test_000000', 'test_000001']  # train ones cached
    assert 'check_annotations: OK' in capsys.readouterr().out
    _check(load(out), TRAIN, 'train')
    assert not osp.exists(out + '.partial')


def test_output_trains_ntu60_xsub(npz_file, tmp_path):
    out = str(tmp_path / 'ntu60_xsub.pkl')
    convert_npz(npz_file, out, ('xsub_train', 'xsub_val'), progress=False)
    runner, _ = train_one_iter('ntu60_xsub/ctrgcn_j.py', out,
                               str(tmp_path / 'work'))
    assert len(runner.train_dataloader.dataset) == 3
