"""Assembly of the demo dataset, its atomic pickle writer and the CLI."""
import argparse
import os
import pickle
import tempfile
from typing import Optional, Sequence

import numpy as np

from ..safe_pickle import safe_load
from .baseline import evaluate_handcrafted_baseline
from .motions import _check_num_pairs, class_names
from .render import _make_clip, _make_subject

# Pickle protocol fixed so the bytes do not depend on the Python default.
PICKLE_PROTOCOL = 4


def generate_demo_annotations(seed: int = 0,
                              num_pairs: int = 4,
                              clips_per_class: int = 40,
                              num_subjects: int = 8,
                              val_subjects: int = 2,
                              min_frames: int = 30,
                              max_frames: int = 80) -> dict:
    """Generate the demo dataset in memory.

    Args:
        seed (int): Random seed; equal arguments give equal data.
            Defaults to 0.
        num_pairs (int): Number of class pairs (``2 * num_pairs`` classes,
            at most ``len(PAIRS)``). Defaults to 4.
        clips_per_class (int): Clips per class, spread evenly over the
            subjects. Defaults to 40.
        num_subjects (int): Number of performers. Defaults to 8.
        val_subjects (int): Performers held out for the ``val`` split
            (cross-subject split). Defaults to 2 (i.e. 25%).
        min_frames (int): Minimum clip length. Defaults to 30.
        max_frames (int): Maximum clip length. Defaults to 80.

    Returns:
        dict: ``dict(split=dict(train=[...], val=[...]),
        annotations=[...])`` as MMAction2's ``PoseDataset`` reads it.
    """
    _check_num_pairs(num_pairs)
    if not 0 < val_subjects < num_subjects:
        raise ValueError('need 0 < val_subjects < num_subjects, got '
                         f'{val_subjects} and {num_subjects}')
    if clips_per_class < num_subjects:
        raise ValueError('clips_per_class must be >= num_subjects so every '
                         'split holds every class')
    if not 8 <= min_frames <= max_frames:
        raise ValueError('need 8 <= min_frames <= max_frames')
    num_classes = 2 * num_pairs
    root = np.random.SeedSequence(seed)
    subj_seq, split_seq, order_seq, clip_seq = root.spawn(4)
    subj_rng = np.random.default_rng(subj_seq)
    subjects = [_make_subject(subj_rng) for _ in range(num_subjects)]
    val_set = set(
        np.random.default_rng(split_seq).permutation(num_subjects)
        [:val_subjects].tolist())

    # (label, subject) of every clip, stored in shuffled order so that the
    # ids do not reveal the label
    jobs = [(c, k % num_subjects) for c in range(num_classes)
            for k in range(clips_per_class)]
    order = np.random.default_rng(order_seq).permutation(len(jobs))
    clip_seqs = clip_seq.spawn(len(jobs))
    annotations, train, val = [], [], []
    for idx, job in enumerate(order.tolist()):
        label, subj = jobs[job]
        clip = _make_clip(label, subjects[subj],
                          np.random.default_rng(clip_seqs[idx]), min_frames,
                          max_frames)
        frame_dir = f'S{subj:02d}_{idx:05d}'
        annotations.append(dict(frame_dir=frame_dir, **clip))
        (val if subj in val_set else train).append(frame_dir)
    return dict(split=dict(train=train, val=val), annotations=annotations)


def generate_demo_dataset(out_file: str,
                          seed: int = 0,
                          num_pairs: int = 4,
                          clips_per_class: int = 40,
                          num_subjects: int = 8,
                          val_subjects: int = 2,
                          min_frames: int = 30,
                          max_frames: int = 80) -> str:
    """Generate the demo dataset and write it as a pickle, atomically.

    The file is written to a temporary file in the same directory and moved
    into place with :func:`os.replace`, so readers never see a partial file.

    Args:
        out_file (str): Destination ``.pkl`` path; parents are created.
        seed (int): Random seed. Defaults to 0.
        num_pairs (int): Number of class pairs. Defaults to 4.
        clips_per_class (int): Clips per class. Defaults to 40.
        num_subjects (int): Number of performers. Defaults to 8.
        val_subjects (int): Held-out performers. Defaults to 2.
        min_frames (int): Minimum clip length. Defaults to 30.
        max_frames (int): Maximum clip length. Defaults to 80.

    Returns:
        str: ``out_file``.
    """
    data = generate_demo_annotations(
        seed=seed,
        num_pairs=num_pairs,
        clips_per_class=clips_per_class,
        num_subjects=num_subjects,
        val_subjects=val_subjects,
        min_frames=min_frames,
        max_frames=max_frames)
    out_dir = os.path.dirname(os.path.abspath(out_file))
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=out_dir, prefix='.' + os.path.basename(out_file), suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            pickle.dump(data, f, protocol=PICKLE_PROTOCOL)
        # mkstemp creates 0600 files: give the usual umask-based mode
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, out_file)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return out_file


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        description='Generate the fine-grained 2D demo skeleton dataset.')
    parser.add_argument('out_file', help='output .pkl path')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num-pairs', type=int, default=4)
    parser.add_argument('--clips-per-class', type=int, default=40)
    parser.add_argument('--num-subjects', type=int, default=8)
    parser.add_argument('--val-subjects', type=int, default=2)
    parser.add_argument('--min-frames', type=int, default=30)
    parser.add_argument('--max-frames', type=int, default=80)
    parser.add_argument(
        '--check',
        action='store_true',
        help='also print the hand-crafted linear baseline accuracy')
    args = parser.parse_args(argv)
    out = generate_demo_dataset(
        args.out_file,
        seed=args.seed,
        num_pairs=args.num_pairs,
        clips_per_class=args.clips_per_class,
        num_subjects=args.num_subjects,
        val_subjects=args.val_subjects,
        min_frames=args.min_frames,
        max_frames=args.max_frames)
    data = safe_load(out)
    print(f'wrote {out}: {len(data["annotations"])} clips '
          f'({len(data["split"]["train"])} train / '
          f'{len(data["split"]["val"])} val), classes: '
          f'{", ".join(class_names(args.num_pairs))}')
    if args.check:
        res = evaluate_handcrafted_baseline(data)
        print('hand-crafted linear baseline: ' +
              ', '.join(f'{k}={v:.3f}'
                        for k, v in res.items() if k != 'confusion'))
