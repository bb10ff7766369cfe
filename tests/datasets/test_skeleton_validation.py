import copy

import numpy as np
import pytest

import mmskelcl  # noqa: F401
from mmskelcl.datasets import SkeletonDataset
from mmskelcl.datasets.validation import (AnnotationError, AnnotationProblem,
                                          assert_valid_annotations,
                                          check_annotations, select_split)


def _set(field, value):
    def mutate(anno):
        anno[field] = value
    return mutate


def _drop(field):
    def mutate(anno):
        del anno[field]
    return mutate


def _nan(field):
    def mutate(anno):
        arr = anno[field].copy()
        arr.flat[3] = np.nan
        anno[field] = arr
    return mutate


def _inf(field):
    def mutate(anno):
        arr = anno[field].copy()
        arr.flat[0] = np.inf
        anno[field] = arr
    return mutate


# (mutation of sample 's2', field named in the message, text in the message)
BAD_SAMPLES = {
    'missing label': (_drop('label'), 'label', 'missing'),
    'missing keypoint': (_drop('keypoint'), 'keypoint', 'missing'),
    'missing total_frames': (_drop('total_frames'), 'total_frames',
                             'missing'),
    'keypoint list': (_set('keypoint', [[1.0]]), 'keypoint', 'ndarray'),
    'keypoint rank 3': (_set('keypoint', np.ones((6, 25, 3))), 'keypoint',
                        'dimensions'),
    'keypoint C=4': (_set('keypoint', np.ones((2, 6, 25, 4))), 'keypoint',
                     'must be 2 or 3'),
    'keypoint dtype': (_set('keypoint', np.full((2, 6, 25, 3), 'a')),
                       'keypoint', 'numeric'),
    'keypoint empty M': (_set('keypoint', np.ones((0, 6, 25, 3))),
                         'keypoint', 'empty'),
    'keypoint empty V': (_set('keypoint', np.ones((2, 6, 0, 3))), 'keypoint',
                         'empty'),
    'keypoint NaN': (_nan('keypoint'), 'keypoint', 'NaN'),
    'keypoint inf': (_inf('keypoint'), 'keypoint', 'inf'),
    'score rank': (_set('keypoint_score', np.ones((2, 6))), 'keypoint_score',
                   'dimensions'),
    'score shape': (_set('keypoint_score', np.ones((2, 5, 25))),
                    'keypoint_score', 'does not match'),
    'score NaN': (_nan('keypoint_score'), 'keypoint_score', 'NaN'),
    'label float': (_set('label', 1.0), 'label', 'integer'),
    'label bool': (_set('label', True), 'label', 'integer'),
    'label negative': (_set('label', -1), 'label', '>= 0'),
    'label too large': (_set('label', 3), 'label', 'num_classes=3'),
    'total_frames mismatch': (_set('total_frames', 7), 'total_frames',
                              'frames'),
}


def _bad_data(data_factory, mutate):
    data = data_factory(num=4, score=True)
    mutate(data['annotations'][2])
    return data


def test_valid_file_has_no_problems(data_factory):
    data = data_factory(num=4, score=True)
    assert check_annotations(data, 'f.pkl', num_classes=3) == []
    assert check_annotations(data, 'f.pkl', split='train') == []
    assert check_annotations(data['annotations'], 'f.pkl') == []
    assert_valid_annotations(data, 'f.pkl', 'val', 3)


@pytest.mark.parametrize('case', list(BAD_SAMPLES))
def test_bad_sample_reported(case, data_factory):
    mutate, field, text = BAD_SAMPLES[case]
    data = _bad_data(data_factory, mutate)
    problems = check_annotations(data, 'anno.pkl', num_classes=3)
    assert problems and all(p.index == 2 for p in problems), problems
    problem = problems[0]
    assert (problem.index, problem.sample_id, problem.field) == (2, 's2',
                                                                 field)
    message = str(problem)
    for part in ('anno.pkl', "'s2'", f"'{field}'", text):
        assert part in message, (part, message)


@pytest.mark.parametrize('case', list(BAD_SAMPLES))
def test_dataset_raises_for_bad_sample_and_keeps_file(case, data_factory,
                                                     write_pkl, file_hash):
    mutate, field, text = BAD_SAMPLES[case]
    path = write_pkl(_bad_data(data_factory, mutate), 'bad_ntu.pkl')
    before = file_hash(path)
    with pytest.raises(AnnotationError) as err:
        SkeletonDataset(str(path), pipeline=[], split='train', num_classes=3)
    message = str(err.value)
    for part in ('bad_ntu.pkl', 's2', field, text):
        assert part in message, (part, message)
    assert isinstance(err.value, ValueError)
    assert file_hash(path) == before


def test_samples_outside_split_are_not_checked(data_factory):
    data = _bad_data(data_factory, _nan('keypoint'))  # s2 is in 'train'
    assert check_annotations(data, 'f.pkl', split='val') == []
    assert len(check_annotations(data, 'f.pkl', split='train')) == 1


def test_all_problems_are_returned(data_factory):
    data = data_factory(num=4)
    data['annotations'][0]['label'] = -3
    data['annotations'][1]['keypoint'] = np.ones((1, 6, 25, 5))
    del data['annotations'][3]['total_frames']
    problems = check_annotations(data, 'f.pkl')
    assert [p.index for p in problems] == [0, 1, 3]
    assert all(isinstance(p, AnnotationProblem) for p in problems)


def test_error_lists_limited_number(data_factory):
    data = data_factory(num=8)
    for anno in data['annotations']:
        anno['label'] = -1
    with pytest.raises(AnnotationError) as err:
        assert_valid_annotations(data, 'many.pkl', max_listed=3)
    assert len(err.value.problems) == 8
    assert '... and 5 more' in str(err.value)
    assert str(err.value).startswith('8 problem(s) in annotation file '
                                     'many.pkl')


def test_frame_dir_and_duplicates(data_factory):
    data = data_factory(num=4)
    data['annotations'][3]['frame_dir'] = 's1'
    problems = check_annotations(data, 'dup.pkl')
    assert len(problems) == 2  # and split 'val' lists the lost id 's3'
    assert "'s3'" in str(problems[1])
    assert problems[0].index == 3 and problems[0].field == 'frame_dir'
    assert "duplicated id 's1'" in str(problems[0])
    assert 'annotations[1]' in str(problems[0])

    data = data_factory(num=2)
    data['annotations'][1]['frame_dir'] = 7
    data['split']['val'] = [7]
    problems = check_annotations(data, 'f.pkl')
    assert len(problems) == 1
    message = str(problems[0])
    assert "'frame_dir'" in message and 'str' in message


def test_split_problems(data_factory, write_pkl, file_hash):
    data = data_factory(num=4)
    problems = check_annotations(data, 'sp.pkl', split='xsub_train')
    assert len(problems) == 1
    assert "'xsub_train' not found" in str(problems[0])
    assert "['train', 'val']" in str(problems[0])

    data['split']['train'] = data['split']['train'] + ['ghost1', 'ghost2']
    problems = check_annotations(data, 'sp.pkl', split='train')
    assert len(problems) == 1
    assert "2 id(s) that are not in annotations" in str(problems[0])
    assert "'ghost1'" in str(problems[0])
    # without a requested split every split list is checked
    assert len(check_annotations(data, 'sp.pkl')) == 1
    assert check_annotations(data, 'sp.pkl', split='val') == []

    path = write_pkl(data, 'split_ntu.pkl')
    before = file_hash(path)
    with pytest.raises(AnnotationError, match='ghost1'):
        SkeletonDataset(str(path), pipeline=[], split='train')
    for validate in (True, False):
        with pytest.raises(AnnotationError) as err:
            SkeletonDataset(str(path), pipeline=[], split='nope',
                            validate=validate)
        assert not isinstance(err.value, KeyError)
        assert 'split_ntu.pkl' in str(err.value)
        assert "available: ['train', 'val']" in str(err.value)
    # validate=False drops unknown ids silently, like PoseDataset
    ds = SkeletonDataset(str(path), pipeline=[], split='train',
                         validate=False)
    assert len(ds) == 2
    assert file_hash(path) == before


@pytest.mark.parametrize('data,split,text', [
    (42, None, 'top level must be'),
    (dict(split={}), None, "no 'annotations' key"),
    (dict(annotations=[]), 'train', "has no 'split' key"),
    ([], 'train', 'bare list'),
    (dict(split=[], annotations=[]), None, 'dict of id lists'),
    (dict(split=dict(a='s0'), annotations=[]), None, 'list of ids'),
    (dict(split={}, annotations='x'), None, 'list of annotation dicts'),
])
def test_top_level_problems(data, split, text):
    problems = check_annotations(data, 'top.pkl', split=split)
    assert len(problems) == 1
    assert text in str(problems[0]) and 'top.pkl' in str(problems[0])


def test_non_dict_annotation():
    problems = check_annotations([dict(), 3], 'f.pkl')
    assert any('must be a dict' in str(p) and 'annotations[1]' in str(p)
               for p in problems)


def test_missing_file_error(tmp_path):
    path = tmp_path / 'ntu60_3danno.pkl'
    with pytest.raises(FileNotFoundError) as err:
        SkeletonDataset(str(path), pipeline=[])
    assert str(path) in str(err.value)
    hint = 'Download it from X or run tools/data/convert.py'
    with pytest.raises(FileNotFoundError) as err:
        SkeletonDataset(str(path), pipeline=[], missing_hint=hint)
    assert str(path) in str(err.value) and hint in str(err.value)


def test_checks_do_not_modify_input(data_factory):
    data = data_factory(num=4, score=True)
    data['annotations'][1]['keypoint'] = np.full((2, 6, 25, 3), np.nan)
    original = copy.deepcopy(data)
    check_annotations(data, 'f.pkl', split='val')
    selected = select_split(data, 'val', 'f.pkl')
    assert [a['frame_dir'] for a in selected] == ['s1', 's3']
    assert selected[0] is data['annotations'][1]
    assert data.keys() == original.keys()
    assert data['split'] == original['split']
    for a, b in zip(data['annotations'], original['annotations']):
        assert a.keys() == b.keys()
        np.testing.assert_array_equal(a['keypoint'], b['keypoint'])
