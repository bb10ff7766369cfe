"""FineGym Gym99 assembly (tools/data/gym_to_pkl.py), end to end: element
clips (generated videos named by FineGym element ids) -> extraction with
ground-truth athlete boxes and a fake estimator -> official-style lists and
category file -> pickle -> validator -> one training iteration."""
import os.path as osp
import pickle
from pathlib import Path

import numpy as np
import pytest

from mmskelcl.datasets.converters.gym import (GymFormatError, convert_gym,
                                              pyskl_id, read_categories)
from ._helpers import (FakeEstimator, load, load_tool, square_top_left,
                       train_one_iter, write_video)

extract_tool = load_tool('extract_2d_skeleton')
gym_tool = load_tool('gym_to_pkl')
check_pkl = load_tool('check_pkl')

VT = 'A0xAXXysHUo_E_002184_002237_A_0035_0036'
FX = 'A0xAXXysHUo_E_002184_002237_A_0040_0042'
BB = '0LtLS9wROrk_E_002407_002435_A_0003_0005'
UB = 'zfqS-wCJSsw_E_000100_000200_A_0010_0012'  # listed, no skeleton
LABELS = {VT: 0, FX: 6, BB: 41, UB: 74}
# label ranges of the events and their set ids in gym99_categories.txt
EVENT_SETS = [('VT', range(0, 6), (1, )), ('FX', range(6, 41), (21, 22)),
              ('BB', range(41, 74), (31, 32)), ('UB', range(74, 99), (41, ))]


def _categories():
    lines = []
    for event, labels, sets in EVENT_SETS:
        for i, label in enumerate(labels):
            name = ('round-off, flic-flac with 0.5 turn on, stretched salto '
                    'forward with 0.5 turn off') if label == 0 else \
                f'(swing) element {label}'
            lines.append(f'Clabel: {label:3d}; set: {sets[i % len(sets)]:2d};'
                         f' Glabel: {label + 100:3d}; ({event}) {name}')
    return '\n'.join(lines) + '\n'


@pytest.fixture
def gym(tmp_path):
    (tmp_path / 'clips').mkdir()
    boxes = {}
    for element, frames in ((VT, 8), (FX, 6), (BB, 7)):
        write_video(tmp_path / 'clips' / f'{element}.avi', num_frames=frames,
                    persons=(0, 1), blank=())
        gt = np.zeros((frames, 4))
        for t in range(frames):  # the athlete is person 0
            x, y = square_top_left(0, t)
            gt[t] = [x, y, x + 60, y + 60]
        boxes[element] = gt
    with open(tmp_path / 'gym_gt_bboxes.pkl', 'wb') as f:
        pickle.dump(boxes, f)
    (tmp_path / 'clips.txt').write_text(
        ''.join(f'clips/{e}.avi {LABELS[e]}\n' for e in (VT, FX, BB)))
    (tmp_path / 'gym99_train_element_v1.1.txt').write_text(
        f'{VT} 0\n{FX} 6\n{UB} 74\n')
    (tmp_path / 'gym99_val_element.txt').write_text(f'{BB} 41\n')
    (tmp_path / 'gym99_categories.txt').write_text(_categories())
    raw = str(tmp_path / 'gym_2d_raw.pkl')
    estimator = FakeEstimator(allow_detect=False)
    assert extract_tool.main(
        [str(tmp_path / 'clips.txt'), raw, '--gt-boxes',
         str(tmp_path / 'gym_gt_bboxes.pkl'), '--max-persons', '1'],
        make_estimator=lambda: estimator) == 0
    return tmp_path, raw


def _args(folder):
    return ['--train', str(folder / 'gym99_train_element_v1.1.txt'),
            '--val', str(folder / 'gym99_val_element.txt'),
            '--categories', str(folder / 'gym99_categories.txt')]


def test_categories_file(tmp_path):
    path = tmp_path / 'gym99_categories.txt'
    path.write_text(_categories())
    classes = read_categories(str(path))
    assert len(classes) == 99
    assert classes[0].event == 'VT' and classes[0].set == 1
    assert classes[0].name.startswith('round-off, flic-flac')
    assert classes[41].event_name == 'balance beam' and classes[41].glabel \
        == 141
    assert classes[98].name == '(swing) element 98'  # "(...)" in names kept


def test_assemble_gym99(gym, capsys):
    folder, raw = gym
    out = str(folder / 'gym_hrnet.pkl')
    assert gym_tool.main([raw, out] + _args(folder)) == 0
    text = capsys.readouterr().out
    assert f'1 listed element(s) without a skeleton, left out: {UB}' in text
    assert "train per event: {'FX': 1, 'VT': 1}" in text
    data = load(out)
    assert data['split'] == dict(train=[pyskl_id(VT), pyskl_id(FX)],
                                 val=[pyskl_id(BB)])
    assert pyskl_id(VT) == 'A0xAXXysHUo_002184_002237_0035_0036'
    annos = {a['frame_dir']: a for a in data['annotations']}
    assert [annos[pyskl_id(e)]['label'] for e in (VT, FX, BB)] == [0, 6, 41]
    vt = annos[pyskl_id(VT)]
    assert vt['keypoint'].shape == (1, 8, 17, 2)  # GT boxes: the athlete
    assert vt['keypoint'].dtype == np.float16 and vt['img_shape'] == (240,
                                                                      320)
    assert len(data['classes']) == 99
    assert data['classes'][41] == dict(
        label=41, set=31, glabel=141, event='BB', event_name='balance beam',
        name='(swing) element 41')
    assert check_pkl.main([out, '--num-classes', '99']) == 0
    assert not osp.exists(out + '.partial')

    # FineGym spelling; skeletons stored under PySKL ids match too
    pyskl_raw = folder / 'pyskl_style.pkl'
    with open(pyskl_raw, 'wb') as f:
        pickle.dump([dict(a, frame_dir=pyskl_id(a['frame_dir']))
                     for a in load(raw)['annotations']], f)
    data, missing = convert_gym([str(pyskl_raw)], *[
        str(folder / n) for n in ('gym99_train_element_v1.1.txt',
                                  'gym99_val_element.txt',
                                  'gym99_categories.txt')],
        str(folder / 'fg.pkl'), id_style='finegym', progress=False)
    assert data['split']['val'] == [BB] and missing == [UB]


def test_strict_duplicates_and_bad_lists(gym):
    folder, raw = gym
    with pytest.raises(GymFormatError, match='1 listed element'):
        gym_tool.main([raw, str(folder / 'x.pkl'), '--strict'] +
                      _args(folder))
    copy = folder / 'copy' / 'raw.pkl'
    copy.parent.mkdir()
    copy.write_bytes(Path(raw).read_bytes())
    with pytest.raises(GymFormatError, match='also appears in another'):
        gym_tool.main([raw, str(copy.parent), str(folder / 'x.pkl')] +
                      _args(folder))
    (folder / 'gym99_val_element.txt').write_text(f'{VT} 0\n')
    with pytest.raises(GymFormatError, match='in both'):
        gym_tool.main([raw, str(folder / 'x.pkl')] + _args(folder))
    (folder / 'gym99_val_element.txt').write_text(f'{BB} 99\n')
    with pytest.raises(GymFormatError, match='label 99, but .* defines 99'):
        gym_tool.main([raw, str(folder / 'x.pkl')] + _args(folder))
    (folder / 'gym99_val_element.txt').write_text(f'{BB}\n')
    with pytest.raises(GymFormatError, match='line 1: expected'):
        gym_tool.main([raw, str(folder / 'x.pkl')] + _args(folder))
    (folder / 'gym99_categories.txt').write_text('Clabel: 0; set: 1; (VT) x')
    with pytest.raises(GymFormatError, match='gym99_categories.txt: line 1'):
        read_categories(str(folder / 'gym99_categories.txt'))
    assert not (folder / 'x.pkl').exists()


def test_output_trains_finegym_config(gym, tmp_path):
    folder, raw = gym
    out = str(folder / 'gym_hrnet.pkl')
    assert gym_tool.main([raw, out] + _args(folder)) == 0
    runner, _ = train_one_iter('finegym/ctrgcn_j.py', out,
                               str(tmp_path / 'work'))
    assert len(runner.train_dataloader.dataset) == 2
