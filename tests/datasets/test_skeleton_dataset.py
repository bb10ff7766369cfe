import copy

import mmengine
import numpy as np
import pytest
import torch
from mmengine.dataset import RepeatDataset
from mmengine.registry import DefaultScope

import mmskelcl  # noqa: F401
import mmaction.datasets
import mmaction.datasets.transforms
from mmaction.registry import DATASETS, TRANSFORMS
from mmskelcl.datasets import SkeletonDataset

META_KEYS = ('frame_dir', 'sample_idx', 'total_frames')

OUR_TRANSFORMS = ('RandomRotation', 'RandomBoneScale', 'RandomViewTransform',
                  'CenterJoint', 'MinMaxNormalize', 'CropResizeFrames',
                  'RandomSortedSampleFrames', 'GenStreamFeat')


def _pipeline(clip_len=4):
    return [
        dict(type='CropResizeFrames', clip_len=clip_len, p_interval=(0.95, ),
             test_mode=True),
        dict(type='GenStreamFeat', layout='nturgb+d', feats=('j', 'b')),
        dict(type='FormatGCNInput', num_person=2),
        dict(type='PackActionInputs', meta_keys=META_KEYS),
    ]


def test_registered_names_do_not_shadow_mmaction():
    mmaction_names = set(dir(mmaction.datasets)) | set(
        dir(mmaction.datasets.transforms))
    for name in OUR_TRANSFORMS:
        cls = TRANSFORMS.get(name)
        assert cls is not None and cls.__module__.startswith('mmskelcl'), name
        assert name not in mmaction_names, name
        assert name not in TRANSFORMS.parent.module_dict, name
    cls = DATASETS.get('SkeletonDataset')
    assert cls is SkeletonDataset
    assert 'SkeletonDataset' not in mmaction_names
    assert 'SkeletonDataset' not in DATASETS.parent.module_dict


def test_end_to_end_metainfo(data_factory, write_pkl):
    path = write_pkl(data_factory(num=6))
    ds = DATASETS.build(
        dict(type='SkeletonDataset', ann_file=str(path),
             pipeline=_pipeline(), split='val', num_classes=3,
             test_mode=True))
    assert len(ds) == 3
    for i in range(len(ds)):
        sample = ds[i]
        assert sample['inputs'].shape == torch.Size([1, 2, 4, 25, 6])
        assert sample['inputs'].dtype == torch.float32
        meta = sample['data_samples'].metainfo
        assert meta['sample_idx'] == i
        assert meta['frame_dir'] == f's{2 * i + 1}'
        assert meta['total_frames'] == 6
        assert int(sample['data_samples'].gt_label) == (2 * i + 1) % 3


def test_sample_idx_through_repeat_dataset(data_factory, write_pkl):
    path = write_pkl(data_factory(num=6))
    cfg = dict(
        type='RepeatDataset',
        times=3,
        dataset=dict(type='SkeletonDataset', ann_file=str(path),
                     pipeline=_pipeline(), split='train'))
    with DefaultScope.overwrite_default_scope('mmaction'):
        repeated = DATASETS.build(cfg)
    assert isinstance(repeated, RepeatDataset)
    assert isinstance(repeated.dataset, SkeletonDataset)
    num = len(repeated.dataset)
    assert num == 3 and len(repeated) == 9
    for idx in range(len(repeated)):
        meta = repeated[idx]['data_samples'].metainfo
        assert meta['sample_idx'] == idx % num
        assert meta['frame_dir'] == f's{2 * (idx % num)}'
        assert repeated.get_data_info(idx)['sample_idx'] == idx % num


@pytest.mark.parametrize('serialize_data', [True, False])
def test_user_objects_not_modified(data_factory, write_pkl, monkeypatch,
                                   serialize_data):
    data = data_factory(num=4)
    original = copy.deepcopy(data)
    path = write_pkl(data)
    monkeypatch.setattr(mmengine, 'load', lambda *args, **kwargs: data)
    ds = SkeletonDataset(
        str(path),
        pipeline=[dict(type='RandomRotation'),
                  dict(type='RandomBoneScale')],
        split='train',
        data_prefix=dict(video='videos'),
        serialize_data=serialize_data)
    assert ds.get_data_info(0)['frame_dir'] == 'videos/s0'
    ds[0]
    ds[1]
    assert data['split'] == original['split']
    for a, b in zip(data['annotations'], original['annotations']):
        assert a['frame_dir'] == b['frame_dir']
        assert set(a) == set(b)
        np.testing.assert_array_equal(a['keypoint'], b['keypoint'])


def test_bare_list_without_split(anno_factory, write_pkl):
    annos = [anno_factory(f'v{i}', num_person=1, num_joints=17,
                          num_channels=2, score=True) for i in range(3)]
    path = write_pkl(annos, 'gym_like.pkl')
    pipeline = [
        dict(type='GenStreamFeat', layout='coco', feats=['j']),
        dict(type='UniformSampleFrames', clip_len=4, test_mode=True),
        dict(type='PoseDecode'),
        dict(type='FormatGCNInput', num_person=1),
        dict(type='PackActionInputs', meta_keys=META_KEYS),
    ]
    ds = SkeletonDataset(str(path), pipeline=pipeline)
    assert len(ds) == 3
    out = ds[2]
    assert out['inputs'].shape == torch.Size([1, 1, 4, 17, 3])
    assert out['data_samples'].metainfo['sample_idx'] == 2


def test_non_pickle_rejected(tmp_path):
    path = tmp_path / 'anno.json'
    path.write_text('[]')
    with pytest.raises(ValueError, match='anno.json'):
        SkeletonDataset(str(path), pipeline=[])
