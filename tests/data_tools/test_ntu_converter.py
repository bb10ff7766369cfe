"""NTU RGB+D raw ``.skeleton`` -> pickle (tools/data/ntu_to_pkl.py).

The tests write small files in the Kinect v2 text format: one body, two
bodies, bodies the denoising must drop, a body that replaces a lost track,
a file without bodies and one on the published missing list.
"""
import os.path as osp

import numpy as np
import pytest

from mmskelcl.datasets.converters import ntu
from mmskelcl.datasets.converters.ntu import (NTU60_TRAIN_SUBJECTS,
                                              NTU120_TRAIN_SUBJECTS,
                                              convert_ntu, split_of)
from mmskelcl.datasets.converters.ntu_skeleton import (NTUFormatError,
                                                       parse_skeleton,
                                                       select_bodies)
from mmskelcl.datasets.validation import check_annotations
from ._helpers import (leftovers, load, load_tool, ntu_body,
                       train_one_iter, write_ntu_skeleton)

ntu_to_pkl = load_tool('ntu_to_pkl')
check_pkl = load_tool('check_pkl')

B1, B2, B3 = '72057594037931101', '72057594037931102', '72057594037931103'
ONE = 'S001C001P001R001A001'
TWO = 'S002C002P003R002A050'
NOISY = 'S001C003P002R001A013'
RELAY = 'S001C002P004R001A026'
EMPTY = 'S003C001P001R001A002'
LISTED = 'S001C001P001R002A003'
N120_A = 'S018C001P045R001A061'
N120_B = 'S019C002P044R001A100'
NOISY_FRAMES = [r for r in range(1, 17) if r != 8]  # raw frames with B1


def _frames(name):
    """Bodies of each raw frame of the sample ``name``."""
    if name in (ONE, N120_A, N120_B):
        return [{B1: ntu_body(0.0, t)} for t in range(5)]
    if name == TWO:  # B2 moves 20x more than B1
        return [{B1: ntu_body(0.0, t, 0.001), B2: ntu_body(1.0, t, 0.02)}
                for t in range(14)]
    if name == NOISY:  # empty frames 0 and 8, short B2, spread-noise B3
        frames = [{} for _ in range(17)]
        for r in NOISY_FRAMES:
            frames[r] = {B1: ntu_body(0.0, r),
                         B3: ntu_body(2.0, r, 0.05, wide=True)}
        for r in range(2, 6):
            frames[r][B2] = ntu_body(1.0, r, 0.2)
        return frames
    if name == RELAY:  # B1 throughout; B2 then B3 (a lost track resumed)
        return [{B1: ntu_body(0.0, t, 0.02),
                 **({B2: ntu_body(2.0, t, 0.005)} if t < 13 else
                    {B3: ntu_body(3.0, t, 0.005)})} for t in range(26)]
    if name == EMPTY:
        return [{}, {}, {}]
    raise KeyError(name)


@pytest.fixture
def src(tmp_path):
    folder = tmp_path / 'nturgb+d_skeletons'
    folder.mkdir()
    for name in (ONE, TWO, NOISY, RELAY, EMPTY, N120_A, N120_B):
        write_ntu_skeleton(folder / f'{name}.skeleton', _frames(name),
                           crlf=name == TWO)
    (folder / f'{LISTED}.skeleton').write_text('corrupted, never read\n')
    (folder / 'README.txt').write_text('ignored')
    missing = tmp_path / 'NTU_RGBD_samples_with_missing_skeletons.txt'
    missing.write_text(
        '302 of the captured samples in the "NTU RGB+D" dataset have missing '
        'or incomplete skeleton data.\nIf you are working on skeleton-based '
        'analysis, please ignore these files.\n\n' + LISTED + '\n')
    return folder, str(missing)


def _expected(name, raw_frames, body_seed, amplitude=0.01):
    return np.stack([ntu_body(body_seed, r, amplitude) for r in raw_frames])


def test_one_body_values_and_joint_order(src):
    folder, _ = src
    kp = select_bodies(parse_skeleton(str(folder / f'{ONE}.skeleton')))
    assert kp.dtype == np.float32 and kp.shape == (1, 5, 25, 3)
    np.testing.assert_allclose(kp[0], _expected(ONE, range(5), 0.0),
                               atol=1e-6)
    # joint 3 (head) at frame 2, by hand: x = 0.03 + 0.02, y = 0.15 + 0.02
    np.testing.assert_allclose(kp[0, 2, 3], [0.05, 0.17, 3.003], atol=1e-6)


def test_two_bodies_most_moving_first(src):
    folder, _ = src
    kp = select_bodies(parse_skeleton(str(folder / f'{TWO}.skeleton')))
    assert kp.shape == (2, 14, 25, 3)
    np.testing.assert_allclose(kp[0], _expected(TWO, range(14), 1.0, 0.02),
                               atol=1e-6)
    np.testing.assert_allclose(kp[1], _expected(TWO, range(14), 0.0, 0.001),
                               atol=1e-6)


def test_denoising_and_empty_frames(src):
    folder, _ = src
    bodies = parse_skeleton(str(folder / f'{NOISY}.skeleton'))
    assert sorted(bodies) == [B1, B2, B3]
    assert bodies[B1].frames == list(range(15))  # frames 0 and 8 dropped
    kp = select_bodies(bodies)
    assert kp.shape == (1, 15, 25, 3)  # B2 too short, B3 spread noise
    np.testing.assert_allclose(kp[0], _expected(NOISY, NOISY_FRAMES, 0.0),
                               atol=1e-6)


def test_replacement_body_joins_the_free_slot(src):
    folder, _ = src
    kp = select_bodies(parse_skeleton(str(folder / f'{RELAY}.skeleton')))
    assert kp.shape == (2, 26, 25, 3)
    np.testing.assert_allclose(kp[0], _expected(RELAY, range(26), 0.0, 0.02),
                               atol=1e-6)
    np.testing.assert_allclose(kp[1, :13],
                               _expected(RELAY, range(13), 2.0, 0.005),
                               atol=1e-6)
    np.testing.assert_allclose(kp[1, 13:],
                               _expected(RELAY, range(13, 26), 3.0, 0.005),
                               atol=1e-6)


def test_official_split_definitions():
    assert len(NTU60_TRAIN_SUBJECTS) == 20
    assert len(NTU120_TRAIN_SUBJECTS) == 53 and NTU60_TRAIN_SUBJECTS < \
        NTU120_TRAIN_SUBJECTS
    assert split_of('S001C001P001R001A001', 'ntu60') == dict(xsub='train',
                                                             xview='val')
    assert split_of('S017C003P003R002A060', 'ntu60') == dict(xsub='val',
                                                             xview='train')
    assert split_of('S032C001P106R002A120', 'ntu120') == dict(xsub='val',
                                                              xset='train')
    assert split_of('S031C001P103R002A120', 'ntu120') == dict(xsub='train',
                                                              xset='val')


def test_convert_ntu60(src, tmp_path):
    folder, missing = src
    out = str(tmp_path / 'out' / 'ntu60_3d.pkl')
    data, skipped = convert_ntu(str(folder), out, 'ntu60', [missing],
                                progress=False)
    assert skipped == dict(listed=[LISTED], no_body=[EMPTY])
    on_disk = load(out)
    assert on_disk['split'] == data['split'] == dict(
        xsub_train=[ONE, RELAY, NOISY], xsub_val=[TWO],
        xview_train=[RELAY, NOISY, TWO], xview_val=[ONE])
    annos = {a['frame_dir']: a for a in on_disk['annotations']}
    assert sorted(annos) == sorted([ONE, RELAY, NOISY, TWO])
    expect = {ONE: (0, 1, 5), TWO: (49, 2, 14), NOISY: (12, 1, 15),
              RELAY: (25, 2, 26)}
    for name, (label, persons, frames) in expect.items():
        anno = annos[name]
        assert anno['label'] == label and isinstance(anno['label'], int)
        assert anno['total_frames'] == frames
        assert anno['keypoint'].shape == (persons, frames, 25, 3)
    assert check_annotations(on_disk, out, num_classes=60) == []
    assert check_pkl.main([out, '--num-classes', '60']) == 0
    assert not osp.exists(out + '.partial') and not leftovers(tmp_path)


def test_convert_ntu120_and_cli(src, tmp_path, capsys):
    folder, missing = src
    out = str(tmp_path / 'ntu120_3d.pkl')
    assert ntu_to_pkl.main([str(folder), out, '--benchmark', 'ntu120',
                            '--missing', missing]) == 0
    text = capsys.readouterr().out
    assert 'skipped 1 listed missing sample(s), 1 without any body' in text
    assert 'check_annotations: OK (num_classes=120)' in text
    data = load(out)
    assert data['split'] == dict(
        xsub_train=[ONE, RELAY, NOISY, N120_A], xsub_val=[TWO, N120_B],
        xset_train=[TWO, N120_A], xset_val=[ONE, RELAY, NOISY, N120_B])
    labels = {a['frame_dir']: a['label'] for a in data['annotations']}
    assert labels[N120_A] == 60 and labels[N120_B] == 99
    assert check_pkl.main([out, '--num-classes', '120']) == 0
    # without the list the corrupted file is read and named in the error
    with pytest.raises(NTUFormatError, match=LISTED):
        convert_ntu(str(folder), str(tmp_path / 'x.pkl'), 'ntu60',
                    progress=False)
    assert not osp.exists(tmp_path / 'x.pkl')


@pytest.mark.parametrize('text,match', [
    ('1\n1\nB 0 1 1 1 1 0 0.1 0.2 2\n24\n', 'has 24 joints'),
    ('1\n1\nB 0 1 1 1 1 0 0.1 0.2 2\n25\n' + '0 0 0 0 0 0 0 0 0 0 0 2\n' * 3,
     'file ends early'),
    ('1\n1\nB 0 1 1 1 1 0 0.1 0.2 2\n25\n' + '0 0 0 0 0 0 0 0 0 0 0 2\n' * 24
     + '0 x 0 0 0 0 0 0 0 0 0 2\n', 'non-numeric'),
    ('1\n1\nB 0 1 1 1 1 0 0.1 0.2 2\n25\n' + '0 0 0 0 0 0 0 0 0 0 0\n',
     'line 5: expected a joint line'),
    ('1\n0\n5\n', 'line 3: unexpected content'),
    ('two\n', 'line 1: the frame count'),
])
def test_malformed_files_name_file_and_line(tmp_path, text, match):
    path = tmp_path / f'{ONE}.skeleton'
    path.write_text(text)
    with pytest.raises(NTUFormatError, match=match) as info:
        parse_skeleton(str(path))
    assert str(path) in str(info.value)


def test_resume_after_kill(src, tmp_path, monkeypatch):
    folder, missing = src
    out = tmp_path / 'ntu60.pkl'
    out.write_bytes(b'previous')
    load_sample, calls = ntu.load_sample, []

    def killed_after_two(path, max_bodies=2):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(osp.basename(path))
        return load_sample(path, max_bodies)

    monkeypatch.setattr(ntu, 'load_sample', killed_after_two)
    with pytest.raises(KeyboardInterrupt):
        convert_ntu(str(folder), str(out), 'ntu60', [missing], save_every=1,
                    progress=False)
    assert out.read_bytes() == b'previous' and not leftovers(tmp_path)
    assert len(calls) == 2 and osp.isdir(str(out) + '.partial')

    done, calls = list(calls), []
    monkeypatch.setattr(ntu, 'load_sample', lambda p, m=2: (
        calls.append(osp.basename(p)), load_sample(p, m))[1])
    data, _ = convert_ntu(str(folder), str(out), 'ntu60', [missing],
                          progress=False)
    assert not set(calls) & set(done) and len(calls) == 3
    assert len(data['annotations']) == 4 and load(out)['split'] == \
        data['split']
    assert not osp.exists(str(out) + '.partial')


@pytest.mark.parametrize('benchmark,config,num_train', [
    ('ntu60', 'ntu60_xsub/ctrgcn_j.py', 3),
    ('ntu60', 'ntu60_xview/ctrgcn_j.py', 3),
    ('ntu120', 'ntu120_xsub/ctrgcn_j.py', 4),
    ('ntu120', 'ntu120_xset/ctrgcn_j.py', 2),
])
def test_output_trains_baseline_config(src, tmp_path, benchmark, config,
                                       num_train):
    folder, missing = src
    out = str(tmp_path / f'{benchmark}_3d.pkl')
    convert_ntu(str(folder), out, benchmark, [missing], progress=False)
    runner, _ = train_one_iter(config, out, str(tmp_path / 'work'))
    assert len(runner.train_dataloader.dataset) == num_train
