"""PKU-MMD converter (tools/data/pkummd_to_pkl.py) on small files written in
the release's format: clips are the labelled frame ranges of their video
(values checked against the written coordinates), labels are 0-based,
splits follow the split lists, an absent second body is dropped; errors
name the file and line; a killed run resumes; check_pkl passes and a
PKU-MMD config trains on the output; the pickle names the classes by the
shipped label map."""
import numpy as np
import pytest

from mmskelcl.analysis.hierarchy import load_label_map
from mmskelcl.datasets.class_names import main as print_label_map
from mmskelcl.datasets.converters import pkummd
from mmskelcl.datasets.converters.pkummd import (PKUMMDFormatError,
                                                 convert_pkummd)
from ._helpers import leftovers, load, load_tool, train_one_iter

check_pkl = load_tool('check_pkl')
tool = load_tool('pkummd_to_pkl')

# video -> (frames, second body present, label rows)
VIDEOS = {
    '0002-L': (40, True, [(3, 0, 12, 1), (51, 15, 40, 2)]),
    '0002-M': (30, False, [(1, 5, 25, 1)]),
    '0291-L': (35, False, [(27, 10, 30, 1), (3, 30, 35, 1)]),
}


def coords(video: int, t: int, body: int) -> np.ndarray:
    """(25, 3) distinct coordinates of one body in one frame."""
    j = np.arange(25)[:, None]
    c = np.arange(3)[None]
    return (video * 1000 + t + body * 0.5 + j * 0.01 + c * 0.001
            ).astype(np.float32)


def write_release(root, videos=VIDEOS):
    skel, lab = root / 'skeleton', root / 'label'
    skel.mkdir(exist_ok=True)
    lab.mkdir(exist_ok=True)
    for v, (name, (frames, two, rows)) in enumerate(videos.items()):
        lines = []
        for t in range(frames):
            b1 = coords(v, t, 1) if two else np.zeros((25, 3))
            vals = np.concatenate([coords(v, t, 0).ravel(), b1.ravel()])
            lines.append(' '.join(f'{x:.6f}' for x in vals))
        (skel / f'{name}.txt').write_text('\n'.join(lines) + '\n')
        (lab / f'{name}.txt').write_text(
            ''.join(f'{a},{s},{e},{c}\n' for a, s, e, c in rows))
    (root / 'cross-subject.txt').write_text(
        'Training videos: \n0002-L, 0002-M\nValidataion videos: \n0291-L\n')
    (root / 'cross-view.txt').write_text(
        'Training videos: \n0002-M\nValidation videos: \n0002-L, 0291-L\n')
    return str(skel), str(lab)


def test_clips_labels_and_splits(tmp_path):
    skel, lab = write_release(tmp_path)
    out = str(tmp_path / 'out' / 'pkummd1.pkl')
    data = convert_pkummd(skel, lab, out, xsub=str(tmp_path /
                          'cross-subject.txt'), xview=str(tmp_path /
                          'cross-view.txt'), progress=False)
    assert load(out)['split'] == data['split']
    annos = {a['frame_dir']: a for a in data['annotations']}
    assert sorted(annos) == ['0002-L_000', '0002-L_001', '0002-M_000',
                             '0291-L_000', '0291-L_001']
    for v, (name, (_, two, rows)) in enumerate(VIDEOS.items()):
        for i, (action, start, end, _) in enumerate(rows):
            a = annos[f'{name}_{i:03d}']
            assert a['label'] == action - 1
            assert a['total_frames'] == end - start
            assert a['keypoint'].shape == (2 if two else 1, end - start, 25,
                                           3)
            want = np.stack([np.stack([coords(v, t, b)
                                       for t in range(start, end)])
                             for b in range(a['keypoint'].shape[0])])
            np.testing.assert_allclose(a['keypoint'], want, atol=1e-5)
    assert data['split'] == {
        'xsub_train': ['0002-L_000', '0002-L_001', '0002-M_000'],
        'xsub_val': ['0291-L_000', '0291-L_001'],
        'xview_train': ['0002-M_000'],
        'xview_val': ['0002-L_000', '0002-L_001', '0291-L_000',
                      '0291-L_001']}
    assert check_pkl.main([out, '--num-classes', '51']) == 0
    assert not leftovers(tmp_path / 'out')


def test_errors_name_the_file_and_line(tmp_path):
    skel, lab = write_release(tmp_path)
    xsub = str(tmp_path / 'cross-subject.txt')
    (tmp_path / 'label' / '0002-M.txt').write_text('52,0,10,1\n')
    with pytest.raises(PKUMMDFormatError, match=r'0002-M.txt:1: action_id'):
        convert_pkummd(skel, lab, str(tmp_path / 'a.pkl'), xsub=xsub,
                       progress=False)
    (tmp_path / 'label' / '0002-M.txt').write_text('1,31,40,1\n')
    with pytest.raises(PKUMMDFormatError, match='starts at frame 31 but .*'
                       '30 frames'):
        convert_pkummd(skel, lab, str(tmp_path / 'a.pkl'), xsub=xsub,
                       progress=False)
    (tmp_path / 'label' / '0002-M.txt').write_text('1,20,33,1\n')
    with pytest.warns(UserWarning, match='clipped to the 30 frames'):
        data = convert_pkummd(skel, lab, str(tmp_path / 'a.pkl'),
                              xsub=xsub, progress=False)
    clip = [a for a in data['annotations'] if a['frame_dir'] == '0002-M_000']
    assert clip[0]['total_frames'] == 10
    with open(tmp_path / 'skeleton' / '0291-L.txt', 'a') as f:
        f.write('1 2 3\n')
    with pytest.raises(PKUMMDFormatError, match=r'0291-L.txt:36: 3 values'):
        convert_pkummd(skel, lab, str(tmp_path / 'b.pkl'), xsub=xsub,
                       progress=False)
    (tmp_path / 'skeleton' / '0291-L.txt').unlink()
    with pytest.raises(FileNotFoundError, match='0291-L.txt'):
        convert_pkummd(skel, lab, str(tmp_path / 'b.pkl'), xsub=xsub,
                       progress=False)
    (tmp_path / 'bad.txt').write_text('0002-L\n')
    with pytest.raises(PKUMMDFormatError, match='before a "Training'):
        pkummd.read_split(str(tmp_path / 'bad.txt'))
    assert tool.main([skel, lab, str(tmp_path / 'c.pkl'), '--xsub',
                      str(tmp_path / 'bad.txt')]) == 2


def test_killed_run_resumes(tmp_path, monkeypatch):
    skel, lab = write_release(tmp_path)
    xsub = str(tmp_path / 'cross-subject.txt')
    out = str(tmp_path / 'p.pkl')
    real, seen = pkummd.cut_video, []

    def dies_on_third(name, *files):
        seen.append(name)
        if len(seen) == 3:
            raise KeyboardInterrupt
        return real(name, *files)

    monkeypatch.setattr(pkummd, 'cut_video', dies_on_third)
    with pytest.raises(KeyboardInterrupt):
        convert_pkummd(skel, lab, out, xsub=xsub, save_every=1,
                       progress=False)
    monkeypatch.setattr(pkummd, 'cut_video', lambda n, *f: (seen.append(n),
                                                            real(n, *f))[1])
    data = convert_pkummd(skel, lab, out, xsub=xsub, progress=False)
    assert seen == ['0002-L', '0002-M', '0291-L', '0291-L']
    assert len(data['annotations']) == 5
    assert not (tmp_path / 'p.pkl.partial').exists()


def test_tool_output_trains_the_pkummd_linear_config(tmp_path, capsys):
    skel, lab = write_release(tmp_path)
    out = str(tmp_path / 'pkummd2.pkl')
    assert tool.main([skel, lab, out, '--xsub',
                      str(tmp_path / 'cross-subject.txt')]) == 0
    assert 'xsub_train: 3' in capsys.readouterr().out
    runner, _ = train_one_iter(
        'pkummd2/skeattnclr_stgcn_j_transfer_finetune.py', out,
        str(tmp_path / 'work'),
        {'model.backbone.init_cfg': None,
         'model.backbone.base_channels': 8, 'model.cls_head.in_channels': 32})
    assert runner.model.cls_head.fc.out_features == 51
    names = runner.train_dataloader.dataset.metainfo['classes']
    assert (names[2], names[50]) == ('brushing teeth', 'writing')


def shipped_label_map(capsys) -> list:
    """Lines of ``python -m mmskelcl.datasets.class_names pkummd``."""
    capsys.readouterr()
    print_label_map(['pkummd'])
    return capsys.readouterr().out.splitlines()


def test_label_map_has_51_unique_names(capsys):
    lines = shipped_label_map(capsys)
    assert load_label_map(lines) == lines
    assert len(lines) == 51 == len(set(lines))
    assert all(n.strip() == n and n for n in lines)
    assert lines == sorted(lines)  # alphabetical, as every source gives them
    # the two-person actions sit at these ids in the independent sources
    two_person = [k for k, n in enumerate(lines, 1)
                  if 'other person' in n or n == 'handshaking']
    assert two_person == [12, 14, 16, 18, 21, 24, 26, 27]
    assert (lines[0], lines[28], lines[37], lines[50]) == (
        'bow', 'put something inside pocket',
        'take out something from pocket', 'writing')


def test_pickle_names_clips_by_the_label_map(tmp_path, capsys):
    """Action id k (label k - 1) is line k of the label map."""
    from mmaction.registry import DATASETS
    lines = shipped_label_map(capsys)
    skel, lab = write_release(tmp_path)
    out = str(tmp_path / 'pkummd1.pkl')
    data = convert_pkummd(skel, lab, out, xsub=str(tmp_path /
                          'cross-subject.txt'), progress=False)
    assert load(out)['classes'] == data['classes'] == lines
    names = {a['frame_dir']: data['classes'][a['label']]
             for a in data['annotations']}
    want = {f'{v}_{i:03d}': lines[action - 1]
            for v, (_, _, rows) in VIDEOS.items()
            for i, (action, *_) in enumerate(rows)}
    assert names == want == {
        '0002-L_000': 'brushing teeth', '0002-L_001': 'writing',
        '0002-M_000': 'bow', '0291-L_000': 'pushing other person',
        '0291-L_001': 'brushing teeth'}
    ds = DATASETS.build(dict(type='SkeletonDataset', ann_file=out,
                             pipeline=[], split='xsub_train',
                             num_classes=51))
    assert ds.metainfo['classes'] == lines
