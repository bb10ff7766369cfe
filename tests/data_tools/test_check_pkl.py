"""tools/data/check_pkl.py: every problem of deliberately broken pickles is
reported (sample id, field, what is wrong) with a non-zero exit, and good
pickles pass."""
import pickle
import subprocess
import sys

import numpy as np
import pytest

from mmskelcl.utils.demo_data import generate_demo_annotations
from ._helpers import REPO, TOOLS, load_tool

check_pkl = load_tool('check_pkl')


def _anno(sid, label=0, frames=6, persons=2, joints=25, channels=3,
          score=False):
    rng = np.random.default_rng(len(sid))
    anno = dict(frame_dir=sid, label=label, total_frames=frames,
                keypoint=rng.uniform(0.1, 1, (persons, frames, joints,
                                              channels)).astype(np.float32))
    if score:
        anno['keypoint_score'] = np.full((persons, frames, joints), 0.9,
                                         np.float16)
        anno['img_shape'] = anno['original_shape'] = (480, 640)
    return anno


def _good(**kwargs):
    annos = [_anno(f's{i}', label=i % 3, **kwargs) for i in range(4)]
    return dict(split=dict(train=['s0', 's1', 's2'], val=['s3']),
                annotations=annos)


def _set(field, value):
    def change(data):
        data['annotations'][1][field] = value
    return change


def _drop(field):
    def change(data):
        del data['annotations'][1][field]
    return change


def _poke(field, value):
    def change(data):
        arr = data['annotations'][1][field].copy()
        arr.flat[5] = value
        data['annotations'][1][field] = arr
    return change


def _no_frame(data):
    data['annotations'][1].update(
        keypoint=np.ones((2, 0, 17, 2), np.float16),
        keypoint_score=np.ones((2, 0, 17), np.float16), total_frames=0)


def _duplicate(data):
    data['annotations'][1]['frame_dir'] = 's0'
    data['split']['train'].remove('s1')


# name -> (change of a good 2D file, field, text of the message[, number
# of problems, 1 by default])
BROKEN = {
    'missing label': (_drop('label'), 'label', 'is missing'),
    'missing keypoint': (_drop('keypoint'), 'keypoint', 'is missing'),
    'keypoint rank': (_set('keypoint', np.ones((6, 17, 2), np.float32)),
                      'keypoint', 'must have 4 dimensions'),
    'keypoint C': (_set('keypoint', np.ones((2, 6, 17, 4), np.float32)),
                   'keypoint', 'must be 2 or 3'),
    'score shape': (_set('keypoint_score', np.ones((2, 5, 17), np.float32)),
                    'keypoint_score', 'does not match'),
    'integer dtype': (_set('keypoint', np.ones((2, 6, 17, 2), np.int64)),
                      'keypoint', 'floating-point dtype'),
    'string dtype': (_set('keypoint', np.full((2, 6, 17, 2), 'a')),
                     'keypoint', 'numeric dtype'),
    'NaN': (_poke('keypoint', np.nan), 'keypoint', '1 NaN/inf'),
    'inf score': (_poke('keypoint_score', np.inf), 'keypoint_score',
                  '1 NaN/inf'),
    'all-zero clip': (_set('keypoint', np.zeros((2, 6, 17, 2), np.float16)),
                      'keypoint', 'empty clip'),
    'no frame': (_no_frame, 'keypoint', 'is empty (shape (2, 0, 17, 2))',
                 3),  # + keypoint_score is empty, total_frames not positive
    'label too large': (_set('label', 99), 'label', 'must be < '
                        'num_classes=99, got 99'),
    'negative label': (_set('label', -1), 'label', 'must be >= 0'),
    'float label': (_set('label', 1.0), 'label', 'must be an integer'),
    'total_frames': (_set('total_frames', 7), 'total_frames',
                     'is 7 but keypoint has 6 frames'),
    'img_shape': (_set('img_shape', (480, )), 'img_shape',
                  '(height, width)'),
    'duplicated id': (_duplicate, 'frame_dir', "duplicated id 's0' (first "
                      'at annotations[0])'),
    'unknown split id': (lambda d: d['split']['val'].append('ghost'),
                         'split', "split 'val' lists 1 id(s) that are not "
                         "in annotations, e.g. ['ghost']"),
}


@pytest.fixture
def write(tmp_path):
    def _write(obj, name='anno.pkl'):
        path = tmp_path / name
        with open(path, 'wb') as f:
            pickle.dump(obj, f)
        return str(path)
    return _write


@pytest.mark.parametrize('name', sorted(BROKEN))
def test_each_problem_is_found(write, capsys, name):
    change, field, message, *count = BROKEN[name]
    data = _good(joints=17, channels=2, score=True)
    change(data)
    path = write(data)
    assert check_pkl.main([path, '--num-classes', '99']) == 1
    out = capsys.readouterr().out
    assert f'{count[0] if count else 1} problem(s):' in out, out
    line = next(x for x in out.splitlines() if x.startswith('  - ')
                and f'field {field!r}' in x)
    assert path in line and f'field {field!r}' in line and message in line
    if field != 'split':  # names the sample
        assert 'annotations[1]' in line


def test_all_problems_of_one_file_are_listed(write, capsys):
    data = _good(joints=17, channels=2, score=True)
    for name in ('missing label', 'NaN', 'unknown split id', 'img_shape'):
        BROKEN[name][0](data)
    data['annotations'][3]['keypoint'] = (
        data['annotations'][3]['keypoint'] * 100).astype(np.int32)
    assert check_pkl.main([write(data)]) == 1
    out = capsys.readouterr().out
    assert '5 problem(s):' in out and "(frame_dir='s3')" in out


@pytest.mark.parametrize('obj,message', [
    (dict(split={}), "no 'annotations' key"),
    (42, 'top level must be dict'),
    (dict(split=[], annotations=[]), "field 'split': must be a dict"),
])
def test_top_level_problems(write, capsys, obj, message):
    assert check_pkl.main([write(obj)]) == 1
    assert message in capsys.readouterr().out


def test_good_files_pass(write, capsys):
    goods = {
        '2d': _good(joints=17, channels=2, score=True),
        '3d': _good(),
        'bare list': _good()['annotations'],
        'demo': generate_demo_annotations(seed=0, num_pairs=1,
                                          clips_per_class=4, num_subjects=4,
                                          val_subjects=1),
    }
    for name, obj in goods.items():
        assert check_pkl.main([write(obj, f'{name}.pkl')]) == 0, name
        assert 'OK: no problem found' in capsys.readouterr().out
    assert check_pkl.main([write(goods['2d']), '--split', 'val',
                           '--num-classes', '3']) == 0


def test_exit_codes(write, tmp_path, capsys):
    garbage = tmp_path / 'garbage.pkl'
    garbage.write_bytes(b'\x80\x04not a pickle')
    assert check_pkl.main([str(garbage)]) == 2
    assert 'cannot be read as a pickle' in capsys.readouterr().out
    assert check_pkl.main([str(tmp_path / 'absent.pkl')]) == 2
    # the exit status of the command itself (one subprocess: imports cost)
    broken = _good()
    broken['annotations'][0]['label'] = 'walk'
    proc = subprocess.run([sys.executable, f'{TOOLS}/check_pkl.py',
                           write(broken)], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "(frame_dir='s0'): field 'label': must be an integer, got 'walk'" \
        in proc.stdout


def test_object_arrays_are_refused_at_load(write, capsys):
    """Object arrays never reach the checks: the safe loader refuses them
    (they can hold arbitrary objects; issue 16)."""
    data = _good(joints=17, channels=2, score=True)
    _set('keypoint', np.full((2, 6, 17, 2), None))(data)
    path = write(data)
    assert check_pkl.main([path]) == 2
    out = capsys.readouterr().out
    assert path in out and "refused numpy dtype dtype('O')" in out, out
