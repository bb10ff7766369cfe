"""A small, deterministic, fine-grained 2D skeleton dataset for demos/tests.

The generator animates a 3D stick figure with the 17 COCO keypoints
(nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles), projects
it orthographically through a randomly placed camera into an image and writes
the result in the PySKL / MMAction2 ``PoseDataset`` pickle format::

    dict(split=dict(train=[frame_dir, ...], val=[frame_dir, ...]),
         annotations=[dict(frame_dir=str, label=int, total_frames=int,
                           img_shape=(h, w), original_shape=(h, w),
                           keypoint=float16 (1, T, 17, 2),       # pixels
                           keypoint_score=float16 (1, T, 17)), ...])

Classes come in PAIRS of near-identical gymnastics-like movements, in the
spirit of FineGym: the two classes of a pair share everything but one
detail, so most of the difficulty (and most of the confusion) lies inside
the pairs. See :data:`PAIRS` for the movements and what separates them.

Nuisance factors: per-subject body proportions and movement style, camera
yaw/pitch, position and scale of the person in images of different sizes,
variable clip length (idle frames before/after the movement), non-linear
speed variation, smooth joint-angle noise, per-joint pixel jitter, score
noise and occasional low-score (mis-detected) joints.

The train/val split is cross-subject: the clips of ``val_subjects`` of the
``num_subjects`` performers form the validation set.

Only numpy is used; the same arguments give a byte-identical pickle.

Example::

    python -m mmskelcl.utils.demo_data data/demo/demo_fine2d.pkl --seed 0

Modules: :mod:`.motions` (the movement templates and :data:`PAIRS`),
:mod:`.render` (body model, forward kinematics, camera and detection
noise of one clip), :mod:`.dataset` (dataset assembly, the atomic pickle
writer and the command line), :mod:`.baseline` (hand-crafted linear
baseline used as a learnability check).
"""
from .baseline import evaluate_handcrafted_baseline, handcrafted_features
from .dataset import (PICKLE_PROTOCOL, generate_demo_annotations,
                      generate_demo_dataset, main)
from .motions import PAIRS, class_names
from .render import COCO_JOINTS

__all__ = [
    'COCO_JOINTS', 'PAIRS', 'class_names', 'generate_demo_dataset',
    'generate_demo_annotations', 'handcrafted_features',
    'evaluate_handcrafted_baseline'
]
