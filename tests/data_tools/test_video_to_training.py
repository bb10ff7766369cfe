"""The README's route from videos to a trained model, as a user runs it:
``extract_2d_skeleton.py`` (the ONNX backend, on tiny ONNX models with the
real signatures) writes the pickle, ``check_pkl.py`` accepts it, and
``tools/train.py configs/finegym/ctrgcn_j.py --ann-file ... --num-classes``
trains the shipped FineGym recipe on it (one epoch at batch 2) and
validates."""
import glob
import json
import os.path as osp

import numpy as np
import torch
import tool_helpers

from mmskelcl.compat.checkpoint import load_checkpoint_file
from ._helpers import REPO, load, load_tool, write_video
from ._onnx_models import make_rtmdet, make_rtmpose


def _train_tool():
    return tool_helpers.load_tool('train.py')


def test_videos_to_a_trained_model(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    names = ('a', 'b', 'c', 'd')
    for i, name in enumerate(names):  # a, c: person 0 (label 0); b, d: 1
        write_video(tmp_path / f'{name}.avi', num_frames=6 + i,
                    persons=(i % 2, ), blank=())
    (tmp_path / 'videos.txt').write_text(
        ''.join(f'{n}.avi {i % 2}\n' for i, n in enumerate(names)))
    (tmp_path / 'splits.json').write_text(json.dumps(
        dict(train=['a', 'b'], val=['c', 'd'])))
    out = str(tmp_path / 'mine_2d.pkl')
    tool, check_pkl = load_tool('extract_2d_skeleton'), load_tool('check_pkl')
    assert tool.main([
        str(tmp_path / 'videos.txt'), out, '--split-file',
        str(tmp_path / 'splits.json'), '--backend', 'onnx', '--det-onnx',
        make_rtmdet(tmp_path / 'rtmdet.onnx'), '--pose-onnx',
        make_rtmpose(tmp_path / 'rtmpose.onnx')]) == 0
    assert check_pkl.main([out, '--num-classes', '2']) == 0
    data = load(out)
    assert [a['frame_dir'] for a in data['annotations']] == list(names)
    assert [a['total_frames'] for a in data['annotations']] == [6, 7, 8, 9]

    work = str(tmp_path / 'work')
    _train_tool().main([
        osp.join(REPO, 'configs', 'finegym', 'ctrgcn_j.py'), '--ann-file',
        out, '--num-classes', '2', '--work-dir', work, '--cfg-options',
        'train_dataloader.batch_size=2', 'val_dataloader.batch_size=2',
        'train_cfg.max_epochs=1'])
    ckpt = load_checkpoint_file(osp.join(work, 'epoch_1.pth'))
    fc = ckpt['state_dict']['cls_head.fc.weight']
    assert fc.shape == (2, 256) and torch.isfinite(fc).all()
    logged = [json.loads(line) for line in open(_scalars(work))]
    losses = [r['loss'] for r in logged if 'loss' in r]
    assert losses and all(np.isfinite(losses))
    val = [r for r in logged if 'acc/top1' in r]
    assert len(val) == 1 and 0 <= val[0]['acc/top1'] <= 1


def _scalars(work: str) -> str:
    found = glob.glob(osp.join(work, '*', 'vis_data', 'scalars.json'))
    assert len(found) == 1, f'one scalars.json under {work}: {found}'
    return found[0]
