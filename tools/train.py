"""Train a skeleton action recognizer: ``python tools/train.py CONFIG``.

The flags are MMAction2's (``--work-dir``, ``--resume``, ``--amp``,
``--cfg-options``, ``--launcher``, ...). The default work dir is
``work_dirs/<config folder>/<config name>`` so the same stream name in two
dataset folders does not collide.

``--amp`` trains under autocast: float16 with mmengine's
``AmpOptimWrapper`` (dynamic loss scale) where CUDA is available, bfloat16
with ``BF16AmpOptimWrapper`` (no loss scale, also on the CPU) otherwise;
``--amp-dtype`` chooses explicitly. ``--compile`` compiles the backbone
with ``torch.compile`` (``CompileBackboneHook``).

Inputs are checked before the Runner starts (config, annotation files,
``load_from`` / ``--resume`` checkpoint, dataset vs head class counts): a
problem is printed alone, the exit status is 1 and no work dir is made.
``--ann-file PATH --num-classes K`` point every loader at your own pickle
and set K on the datasets, the head and every auxiliary head. Loader
``num_workers`` is capped at the machine's CPU cores.
"""
import argparse
import os
import os.path as osp
import sys

if __name__ == '__main__':  # tcmalloc before torch loads (MMSKELCL_ALLOCATOR)
    import _preload  # noqa: F401  (tools/_preload.py)
import mmskelcl  # noqa: F401  (stack fixes + registration)
import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from mmskelcl.compat.cpu_dist import setup_cpu_distributed
from mmskelcl.utils import allocator


def parse_args(argv=None) -> argparse.Namespace:
    from mmskelcl.utils.cli import DefaultsHelpFormatter
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=DefaultsHelpFormatter)
    p.add_argument('config', help='train config file path')
    p.add_argument('--work-dir', help='the dir to save logs and models')
    p.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint, or (no value) from the latest '
        'checkpoint in the work dir')
    p.add_argument('--amp', action='store_true',
                   help='automatic mixed precision training')
    p.add_argument(
        '--amp-dtype', choices=['float16', 'bfloat16'], default=None,
        help='autocast dtype of --amp: float16 (AmpOptimWrapper, dynamic '
        'loss scale) or bfloat16 (BF16AmpOptimWrapper, no loss scale). '
        'Default: float16 with CUDA, bfloat16 without (CPU)')
    p.add_argument(
        '--compile', nargs='?', const='inductor', metavar='BACKEND',
        help='torch.compile the backbone (CompileBackboneHook; default '
        'backend inductor). The first iterations are slow (compilation)')
    p.add_argument('--no-validate', action='store_true',
                   help='do not evaluate during training')
    p.add_argument('--auto-scale-lr', action='store_true',
                   help='scale the lr by actual / base batch size')
    p.add_argument('--seed', type=int, default=None, help='random seed')
    p.add_argument('--diff-rank-seed', action='store_true',
                   help='different seeds on different ranks')
    p.add_argument('--deterministic', action='store_true',
                   help='deterministic CUDNN options')
    p.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, key=value (lists: key="[a,b]")')
    p.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                   default='none', help='job launcher')
    p.add_argument('--local_rank', '--local-rank', type=int, default=0,
                   help='rank of this process (set by the launcher)')
    p.add_argument('--ann-file', metavar='PATH',
                   help='annotation pickle for every loader (own data)')
    p.add_argument('--num-classes', type=int, metavar='K',
                   help='class count of every dataset, the head and every '
                   'auxiliary head')
    args = p.parse_args(argv)
    if not osp.isfile(args.config):
        sys.exit(f'error: config file not found: {args.config}')
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def default_work_dir(config: str) -> str:
    """``work_dirs/<folder>/<name>`` of a config file."""
    folder = osp.basename(osp.dirname(osp.abspath(config)))
    return osp.join('work_dirs', folder,
                    osp.splitext(osp.basename(config))[0])


def amp_wrapper_cfg(dtype=None) -> dict:
    """Optim wrapper keys of ``--amp``: float16 goes through mmengine's
    ``AmpOptimWrapper`` (dynamic loss scale, needs an accelerator);
    bfloat16 through ``BF16AmpOptimWrapper`` (no loss scale, any device).
    ``dtype=None``: float16 when CUDA is available, else bfloat16."""
    import torch
    if dtype is None:
        dtype = 'float16' if torch.cuda.is_available() else 'bfloat16'
    if dtype == 'bfloat16':
        return dict(type='BF16AmpOptimWrapper', dtype='bfloat16')
    if not torch.cuda.is_available():
        sys.exit('error: --amp-dtype float16 needs a GPU; use '
                 '--amp-dtype bfloat16 on the CPU')
    return dict(type='AmpOptimWrapper', dtype='float16')


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the command-line flags to the config."""
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = default_work_dir(args.config)
    if args.amp:
        wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if wrapper not in ('OptimWrapper', 'AmpOptimWrapper',
                           'BF16AmpOptimWrapper'):
            raise ValueError(f'--amp does not support optim wrapper {wrapper}')
        cfg.optim_wrapper.update(amp_wrapper_cfg(args.amp_dtype))
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.compile:
        cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [
            dict(type='CompileBackboneHook', backend=args.compile)]
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    randomness = dict(cfg.get('randomness') or {})
    if args.seed is not None:
        randomness['seed'] = args.seed
    if args.diff_rank_seed:
        randomness['diff_rank_seed'] = True
    if args.deterministic:
        randomness['deterministic'] = True
    cfg.randomness = randomness
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def check_inputs(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply ``--ann-file`` / ``--num-classes``, cap loader workers, add the
    run-check hooks, and exit with the problems of the inputs, if any,
    before a Runner (and its work dir) exists."""
    from mmskelcl.utils.preflight import (PreflightError,
                                          add_run_check_hooks,
                                          apply_data_overrides,
                                          cap_num_workers, input_problems,
                                          raise_problems)
    try:
        apply_data_overrides(cfg, args.ann_file, args.num_classes)
        cap_num_workers(add_run_check_hooks(cfg))
        problems = input_problems(cfg, args.config,
                                  ('train_dataloader', 'val_dataloader'))
        ckpt = cfg.get('load_from')
        if isinstance(ckpt, str) and '://' not in ckpt and \
                not osp.isfile(ckpt):
            problems.append(f'{args.config}: checkpoint not found: {ckpt} '
                            '(load_from / --resume)')
        raise_problems(problems)
    except PreflightError as err:
        sys.exit(str(err))
    return cfg


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = check_inputs(merge_args(Config.fromfile(args.config), args), args)
    setup_cpu_distributed(cfg)  # --launcher without CUDA: gloo, no set_device
    torch.set_num_threads(allocator.rank_threads(torch.get_num_threads()))
    if 'runner_type' in cfg:
        from mmaction.registry import RUNNERS
        runner = RUNNERS.build(cfg)
    else:
        runner = Runner.from_cfg(cfg)
    runner.logger.info(allocator.describe(torch.get_num_threads()))
    runner.train()


if __name__ == '__main__':
    main()
