"""No transform writes into the arrays it is given (they may be shared)."""
import numpy as np
import pytest

import mmskelcl  # noqa: F401
from mmaction.registry import TRANSFORMS

CASES = [
    (dict(type='RandomRotation'), 'nturgb+d', False),
    (dict(type='RandomRotation'), 'coco', True),
    (dict(type='RandomBoneScale', layout='nturgb+d'), 'nturgb+d', False),
    (dict(type='RandomBoneScale', layout='coco'), 'coco', True),
    (dict(type='RandomViewTransform'), 'nwucla', False),
    (dict(type='CenterJoint'), 'nwucla', False),
    (dict(type='MinMaxNormalize'), 'nwucla', False),
    (dict(type='CropResizeFrames', clip_len=4), 'nturgb+d', False),
    (dict(type='CropResizeFrames', clip_len=4, p_interval=0.9), 'coco', True),
    (dict(type='RandomSortedSampleFrames', clip_len=4), 'nwucla', False),
    (dict(type='GenStreamFeat', layout='coco',
          feats=('j', 'b', 'jm', 'bm')), 'coco', True),
    (dict(type='GenStreamFeat', layout='nwucla', feats=('j', )), 'nwucla',
     False),
    (dict(type='GenStreamFeat', layout='nturgb+d', feats=('b', 'bm')),
     'nturgb+d', False),
]
JOINTS = {'nturgb+d': 25, 'coco': 17, 'nwucla': 20}


@pytest.mark.parametrize('cfg,layout,score', CASES)
@pytest.mark.parametrize('dtype', [np.float32, np.float16])
def test_inputs_untouched(cfg, layout, score, dtype):
    rng = np.random.default_rng(0)
    kp = rng.normal(size=(2, 6, JOINTS[layout], 2 if score else 3))
    kp[1, 4:] = 0
    results = dict(keypoint=kp.astype(dtype), total_frames=6)
    if score:
        results['keypoint_score'] = rng.uniform(
            size=(2, 6, JOINTS[layout])).astype(dtype)
    inputs = {k: v for k, v in results.items() if isinstance(v, np.ndarray)}
    copies = {k: v.copy() for k, v in inputs.items()}
    for array in inputs.values():
        array.flags.writeable = False  # any in-place write raises

    out = TRANSFORMS.build(cfg)(dict(results))
    for key, array in inputs.items():
        np.testing.assert_array_equal(array, copies[key])
        if key in out and out[key] is not array:
            assert not np.shares_memory(out[key], array), key
    assert out['keypoint'].dtype in (np.float32, np.float64, dtype)
