"""SkeletonDataset(person_pad=...): who fills FormatGCNInput's mode, and
what the filled pipeline does to a one-person clip."""
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.dataset import Compose

from mmskelcl.apis.inference import inference_pipeline_cfg
from mmskelcl.datasets.skeleton_dataset import apply_person_pad

PIPE = [dict(type='FormatGCNInput', num_person=2)]


def test_fills_only_unset_modes_and_pads_as_asked():
    got = apply_person_pad(PIPE + [dict(type='FormatGCNInput', mode='zero')],
                           'loop')
    assert [s['mode'] for s in got] == ['loop', 'zero']
    assert 'mode' not in PIPE[0]  # the config's list is not modified
    kp = np.arange(1 * 3 * 2 * 3, dtype=np.float32).reshape(1, 3, 2, 3) + 1
    for mode, second in (('loop', kp[0]), ('zero', 0 * kp[0])):
        out = Compose(apply_person_pad(PIPE, mode))(dict(keypoint=kp))
        x = out['keypoint'][0]  # (M, T, V, C) of the one clip
        np.testing.assert_array_equal(x[0], kp[0])
        np.testing.assert_array_equal(x[1], second)


def test_bad_mode_or_nothing_to_fill_is_an_error():
    with pytest.raises(ValueError, match="'repeat'"):
        apply_person_pad(PIPE, 'repeat')
    with pytest.raises(ValueError, match='no FormatGCNInput without'):
        apply_person_pad([dict(type='FormatGCNInput', mode='zero')], 'loop')


def test_inference_uses_the_test_sets_padding():
    cfg = Config(dict(test_dataloader=dict(dataset=dict(
        type='SkeletonDataset', pipeline=PIPE, person_pad='loop'))))
    assert inference_pipeline_cfg(cfg)[0]['mode'] == 'loop'
