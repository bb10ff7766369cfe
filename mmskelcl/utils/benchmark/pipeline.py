"""Throughput of a config's training data pipeline, per loader worker.

One loader worker runs ``dataset[i]`` (annotation -> every transform ->
packed sample) serially, so the clips per second of one process running
the pipeline is the rate of one worker. The time is the CPU time of the
thread (``time.thread_time``), so other tenants of a shared machine do not
inflate it; the wall-clock time is reported beside it. ``num_workers``
workers give about ``num_workers`` times that while each has a core. A
GPU taking ``S`` training steps per second at batch size ``B`` consumes
``S * B`` clips per second and needs ``ceil(S * B / rate)`` workers
(:func:`workers_needed`; collation and the transfer to the device are not
counted).

The dataset is built from the config's ``train_dataloader.dataset`` (the
innermost one below ``RepeatDataset``-like wrappers) with its pipeline and
stream. Without the annotation file (or with ``synthetic=True``) a
synthetic file of the right shape is written to a temporary directory:
``frames`` frames per clip (default 100), the config's persons, joints
(layout of the pipeline's ``GenStreamFeat``) and coordinates (2D with
scores when the pipeline has ``PreNormalize2D``, else 3D), random labels.
"""
import copy
import math
import os
import os.path as osp
import pickle
import tempfile
import time
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from .shapes import ConfigLike, _type_name, _walk, load_config


def _inner_dataset(cfg) -> dict:
    """The innermost dataset config of ``train_dataloader`` (the one with
    an ``ann_file``)."""
    ds = cfg.get('train_dataloader', {}).get('dataset')
    while isinstance(ds, dict) and 'ann_file' not in ds and 'dataset' in ds:
        ds = ds['dataset']
    if not isinstance(ds, dict) or 'ann_file' not in ds:
        raise ValueError('the config has no train_dataloader dataset with '
                         'an ann_file')
    return copy.deepcopy(ds)


def clip_spec(ds_cfg: dict) -> Dict[str, Any]:
    """Persons, joints, coordinates and 2D-ness of a dataset's clips, read
    from its pipeline."""
    from mmskelcl.structures.layouts import NUM_JOINTS
    pipeline = [t for t in ds_cfg.get('pipeline', []) if isinstance(t, dict)]
    names = [_type_name(t) for t in pipeline]
    layouts = [t['layout'] for t in _walk(pipeline)
               if isinstance(t.get('layout'), str)]
    if not layouts:
        raise ValueError('cannot tell the joints of the synthetic clips: no '
                         'transform of the train pipeline names a layout')
    persons = [t.get('num_person', 2) for t in pipeline
               if _type_name(t) == 'FormatGCNInput']
    two_d = 'PreNormalize2D' in names
    return dict(num_person=int(persons[0]) if persons else 2,
                num_joints=int(NUM_JOINTS[layouts[0]]), two_d=two_d,
                coords=2 if two_d else 3, layout=layouts[0])


def write_synthetic(path: str, ds_cfg: dict, num_clips: int,
                    frames: int = 100, num_classes: int = 10,
                    seed: int = 0) -> Dict[str, Any]:
    """Write ``num_clips`` random clips shaped for ``ds_cfg`` to ``path``
    (every clip in the config's split). Returns the clip spec."""
    spec = clip_spec(ds_cfg)
    rng = np.random.default_rng(seed)
    M, V, C = spec['num_person'], spec['num_joints'], spec['coords']
    annos = []
    for i in range(num_clips):
        kp = rng.normal(size=(M, frames, V, C)).astype(np.float32)
        anno = dict(frame_dir=f'synthetic{i:05d}', total_frames=frames,
                    label=int(rng.integers(num_classes)))
        if spec['two_d']:
            anno.update(keypoint=(kp * 100 + 500).astype(np.float16),
                        keypoint_score=rng.uniform(
                            0.3, 1, (M, frames, V)).astype(np.float16),
                        img_shape=(1080, 1920), original_shape=(1080, 1920))
        else:
            anno['keypoint'] = kp * 0.5
        annos.append(anno)
    names = [a['frame_dir'] for a in annos]
    split = ds_cfg.get('split')
    data = dict(split={split: names} if split else {}, annotations=annos)
    with open(path, 'wb') as f:
        pickle.dump(data, f)
    return spec


def workers_needed(clips_per_s_per_worker: float, steps_per_s: float,
                   batch_size: int) -> int:
    """Loader workers that feed ``steps_per_s`` steps of ``batch_size``."""
    return int(math.ceil(steps_per_s * batch_size / clips_per_s_per_worker))


def benchmark_pipeline(config: ConfigLike,
                       num_clips: int = 200,
                       warmup: int = 10,
                       ann_file: Optional[str] = None,
                       synthetic: bool = False,
                       frames: int = 100,
                       cfg_options: Optional[dict] = None,
                       step_rates: Sequence[float] = (5, 10, 20),
                       seed: int = 0) -> Dict[str, Any]:
    """Clips per second of one worker running the training pipeline.

    Args:
        config (str | dict | Config): The config.
        num_clips (int): Timed clips (``dataset[i]`` for ``i`` cycling
            over the dataset). Defaults to 200.
        warmup (int): Untimed clips first. Defaults to 10.
        ann_file (str, optional): Annotation file to read instead of the
            config's.
        synthetic (bool): Use synthetic clips even if the file exists.
        frames (int): Frames of each synthetic clip. Defaults to 100.
        cfg_options (dict, optional): Overrides of the config.
        step_rates (Sequence[float]): GPU steps per second for which the
            needed workers are reported (at the config's batch size).
        seed (int): numpy / torch / random seed. Defaults to 0.

    Returns:
        dict: ``clips_per_s_per_worker``, ``ms_per_clip`` (mean, median),
        ``transform_ms`` (mean per transform, in order), ``workers_needed``
        ({steps/s: workers}) and the data source.
    """
    import random

    import torch
    from mmaction.registry import DATASETS
    from mmengine.registry import init_default_scope
    cfg = load_config(config, cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    ds_cfg = _inner_dataset(cfg)
    if ann_file is not None:
        ds_cfg['ann_file'] = ann_file
    tmp = None
    source = ds_cfg['ann_file']
    if synthetic or not osp.isfile(ds_cfg['ann_file']):
        tmp = tempfile.TemporaryDirectory()
        ds_cfg['ann_file'] = osp.join(tmp.name, 'synthetic.pkl')
        n_cls = ds_cfg.get('num_classes') or 10
        write_synthetic(ds_cfg['ann_file'], ds_cfg,
                        max(num_clips // 4, 16), frames, n_cls, seed)
        source = f'synthetic ({frames} frames per clip)'
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    threads = torch.get_num_threads()
    try:
        dataset = DATASETS.build(ds_cfg)
        transforms = list(dataset.pipeline.transforms)
        n = len(dataset)
        per_t = np.zeros(len(transforms))
        times: List[float] = []
        walls: List[float] = []
        torch.set_num_threads(1)  # a loader worker runs one thread
        for k in range(warmup + num_clips):
            wall = time.perf_counter()
            start = time.thread_time()
            data = dataset.get_data_info(k % n)
            stamps = []
            for t in transforms:
                data = t(data)
                stamps.append(time.thread_time())
            if k >= warmup:
                times.append(stamps[-1] - start)
                walls.append(time.perf_counter() - wall)
                per_t += np.diff([start] + stamps)
    finally:
        torch.set_num_threads(threads)
        if tmp is not None:
            tmp.cleanup()
    mean_s = float(np.mean(times))
    rate = 1.0 / mean_s
    batch = int(cfg.train_dataloader.get('batch_size') or 1)
    return dict(
        config=str(getattr(cfg, 'filename', None) or '<config>'),
        data=source, clips=num_clips, dataset_size=n,
        stream=ds_cfg.get('stream'),
        clips_per_s_per_worker=rate, ms_per_clip=mean_s * 1e3,
        ms_per_clip_median=float(np.median(times)) * 1e3,
        wall_ms_per_clip=float(np.mean(walls)) * 1e3,
        transform_ms={f'{i}:{type(t).__name__}': float(v / num_clips * 1e3)
                      for i, (t, v) in enumerate(zip(transforms, per_t))},
        batch_size=batch,
        workers_needed={str(s): workers_needed(rate, s, batch)
                        for s in step_rates},
        cpu_count=os.cpu_count(),
        timing='mean CPU time (thread_time) of dataset[i] in one process '
        'with one torch thread (= one busy loader worker with a core of its '
        'own), after warm-up; wall_ms_per_clip also counts time the '
        'process waited for a core')
