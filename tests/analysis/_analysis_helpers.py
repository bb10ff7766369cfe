"""Shared pieces of the analysis tests: a hand-made score set with known
answers, a small FineGym-format category file, PNG checks and tool
loading."""
import os.path as osp
from types import ModuleType

import numpy as np
import tool_helpers

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# Six classes in FineGym's gym99_categories.txt format: events VT, FX, BB;
# sets VT-1 (classes 0, 1), FX-21 (2, 3), FX-22 (4), BB-31 (5).
GYM_LINES = [
    'Clabel:   0; set:  1; Glabel:   1; (VT) round-off, flic-flac on, '
    'stretched salto backward with 1 turn off',
    'Clabel:   1; set:  1; Glabel:  19; (VT) round-off, flic-flac on, '
    'stretched salto backward with 2 turn off',
    'Clabel:   2; set: 21; Glabel:  67; (FX) switch leap with 0.5 turn',
    'Clabel:   3; set: 21; Glabel:  68; (FX) switch leap with 1 turn   ',
    'Clabel:   4; set: 22; Glabel: 134; (FX) 2 turn in back attitude',
    'Clabel:   5; set: 31; Glabel: 207; (BB) sissone',
    '',
]

# (true label, predicted label) of the 14 samples, by class:
#   0: 0 0 1 1 (2/4)   1: 1 0 (1/2)   2: 2 2 3 (2/3)   3: 3 4 (1/2)
#   4: 4 5 (1/2)       5: 5 (1/1)     -> 8/14 correct
PAIRS = [(0, 0), (0, 0), (0, 1), (0, 1), (1, 1), (1, 0), (2, 2), (2, 2),
         (2, 3), (3, 3), (3, 4), (4, 4), (4, 5), (5, 5)]
NUM_CLASSES = 6
# the sample (4 predicted as 5) whose true class scores lowest: top-5 miss
TOP5_MISS = 12


def hand_scores():
    """``(ids, scores (14, 6), labels)`` realising :data:`PAIRS`."""
    ids = [f'v{i:02d}' for i in range(len(PAIRS))]
    scores = np.tile(0.01 * np.arange(NUM_CLASSES), (len(PAIRS), 1))
    labels = np.array([t for t, _ in PAIRS], dtype=np.int64)
    for i, (true, pred) in enumerate(PAIRS):
        if true != pred:
            scores[i, true] = -1.0 if i == TOP5_MISS else 0.5
        scores[i, pred] = 1.0
    return ids, scores, labels


def load_tool(*parts: str) -> ModuleType:
    """Import a script of tools/ as a module (to call its ``main``)."""
    return tool_helpers.load_tool('/'.join(parts))


def check_png(path: str, min_side: int = 200, max_side: int = 4000):
    """The PNG exists, is not tiny, has a sane size and is not blank."""
    from matplotlib import image
    assert osp.isfile(path), path
    assert osp.getsize(path) > 2000, (path, osp.getsize(path))
    with open(path, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n', path
    pixels = image.imread(path)
    h, w = pixels.shape[:2]
    assert min_side <= h <= max_side and min_side <= w <= max_side, (
        path, pixels.shape)
    assert pixels[..., :3].std() > 0.01, f'{path} is blank'
    return h, w
