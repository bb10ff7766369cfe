"""Shared helpers of the data-tool tests: writers of inputs in the real
formats, the one-iteration training check and the validator CLI."""
import os
import os.path as osp
import pickle
from types import ModuleType
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.runner import Runner
import tool_helpers

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO, 'tools', 'data')


def load_tool(name: str) -> ModuleType:
    """Import ``tools/data/<name>.py`` (tools/ is not a package)."""
    return tool_helpers.load_tool(f'data/{name}.py')


def load(path) -> object:
    with open(path, 'rb') as f:
        return pickle.load(f)


def leftovers(folder) -> List[str]:
    """Temp files an atomic write could leave behind."""
    return sorted(n for _, _, names in os.walk(folder) for n in names
                  if n.endswith('.tmp'))


# ------------------------------------------------------------- NTU format
def ntu_joint_line(x: float, y: float, z: float) -> str:
    """One joint line of a Kinect v2 ``.skeleton`` file (12 values)."""
    return (f'{x:.7g} {y:.7g} {z:.7g} 277.419 191.8218 1036.233 519.1677 '
            f'-0.2411259 0.0135499 0.9702916 -0.0055588 2')


def write_ntu_skeleton(path, frames: Sequence[Dict[str, np.ndarray]],
                       crlf: bool = False) -> None:
    """Write ``frames`` (each ``{body_id: joints (25, 3)}``) in the NTU
    ``.skeleton`` text format (optionally with Windows line ends)."""
    lines = [str(len(frames))]
    for bodies in frames:
        lines.append(str(len(bodies)))
        for body_id, joints in bodies.items():
            lines.append(f'{body_id} 0 1 1 1 1 0 0.01119184 -0.256052 2')
            lines.append('25')
            lines += [ntu_joint_line(*xyz) for xyz in joints]
    with open(path, 'w', newline='\r\n' if crlf else '\n') as f:
        f.write('\n'.join(lines) + '\n')


def ntu_body(seed: float, t: int, amplitude: float = 0.01,
             wide: bool = False) -> np.ndarray:
    """Joints (25, 3) of an upright body (tall: y-extent 1.2 m, narrow),
    moving with ``amplitude`` per frame; ``wide`` makes it spread noise."""
    j = np.arange(25)
    x = seed + 0.01 * j + amplitude * t + (1.5 * (j % 2) if wide else 0)
    y = 0.05 * j + amplitude * t
    z = 3.0 + 0.001 * j + 0.1 * seed
    return np.stack([x, y, z], axis=1)


# ------------------------------------------------------------ training
def train_one_iter(config: str, ann_file: str, work_dir: str,
                   cfg_options: Dict = None) -> Tuple[Runner, float]:
    """Train ``config`` (a path under configs/) for one iteration on
    ``ann_file`` (batch 2, no workers, no validation, no checkpoint)."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', config))
    options = {
        'work_dir': work_dir,
        'train_dataloader.batch_size': 2,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'log_level': 'WARNING',
    }
    dataset = cfg.train_dataloader.dataset
    key = 'train_dataloader.dataset'
    while 'ann_file' not in dataset:  # RepeatDataset wrappers
        dataset, key = dataset.dataset, key + '.dataset'
    options[key + '.ann_file'] = ann_file
    options.update(cfg_options or {})
    cfg.merge_from_dict(options)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=1)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.test_cfg = cfg.test_dataloader = cfg.test_evaluator = None
    cfg.default_hooks.checkpoint = None
    runner = Runner.from_cfg(cfg)
    before = {k: v.detach().clone()
              for k, v in runner.model.named_parameters()}
    runner.train()
    assert runner.iter == 1
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert np.isfinite(loss) and loss > 0
    assert any(not torch.equal(v, before[k])
               for k, v in runner.model.named_parameters()), \
        'no parameter was updated'
    return runner, loss


# ------------------------------------------------------ videos, estimator
SQUARE = 60  # side of the "persons" drawn in the generated videos
VIDEO_SHAPE = (240, 320)  # h, w


def square_top_left(person: int, t: int) -> Tuple[int, int]:
    """(x, y) of person 0 (moves down) or 1 (moves up) in frame t; their
    top edges cross after frame 7, so detection order (top first) flips."""
    return (30, 10 + 10 * t) if person == 0 else (200, 150 - 10 * t)


def write_video(path, num_frames: int = 12, persons: Sequence[int] = (0, 1),
                blank: Sequence[int] = (4, 5), fps: float = 10.0) -> str:
    """A tiny MJPG video of white squares on black, built with OpenCV's
    VideoWriter; frames in ``blank`` show nobody."""
    import cv2
    h, w = VIDEO_SHAPE
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), fps,
                             (w, h))
    assert writer.isOpened(), f'cannot write {path}'
    for t in range(num_frames):
        frame = np.zeros((h, w, 3), np.uint8)
        if t not in blank:
            for p in persons:
                x, y = square_top_left(p, t)
                frame[y:y + SQUARE, x:x + SQUARE] = 255
        writer.write(frame)
    writer.release()
    return str(path)


def fake_keypoints(box: np.ndarray) -> np.ndarray:
    """17 keypoints (K, 2) on a grid inside ``box`` (x1, y1, x2, y2)."""
    u = np.linspace(0.1, 0.9, 17)
    v = np.abs(np.linspace(-0.8, 0.8, 17))
    x1, y1, x2, y2 = box[:4]
    return np.stack([x1 + u * (x2 - x1), y1 + v * (y2 - y1)], axis=1)


class FakeEstimator:
    """A PoseEstimator without MMPose: the white squares are the persons.

    ``detect`` returns the squares (score 0.9) in top-to-bottom order plus
    two boxes PySKL's filter must drop (too small; too unsure).
    """
    num_keypoints = 17

    def __init__(self, allow_detect: bool = True) -> None:
        self.allow_detect = allow_detect
        self.frames_seen = 0

    def detect(self, frame):
        import cv2
        assert self.allow_detect, 'detect() called with ground-truth boxes'
        mask = (frame.max(axis=2) > 128).astype(np.uint8)
        num, _, stats, _ = cv2.connectedComponentsWithStats(mask)
        boxes = [[x, y, x + w, y + h, 0.9] for x, y, w, h, _ in stats[1:num]]
        boxes.sort(key=lambda b: b[1])
        boxes += [[0, 0, 30, 30, 0.99], [0, 0, 200, 200, 0.5]]
        return np.array(boxes, np.float32)

    def estimate(self, frame, boxes):
        self.frames_seen += 1
        kps = np.stack([fake_keypoints(b) for b in boxes])
        return kps.astype(np.float32), np.full(kps.shape[:2], 0.9,
                                               np.float32)


def expected_keypoints(person: int, t: int) -> np.ndarray:
    x, y = square_top_left(person, t)
    return fake_keypoints(np.array([x, y, x + SQUARE, y + SQUARE],
                                   np.float64))
