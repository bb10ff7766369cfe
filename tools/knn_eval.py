"""Weighted kNN evaluation of a self-supervised checkpoint, standalone.

    python tools/knn_eval.py configs/ntu60_xsub/skeattnclr_stgcn_j_pretrain.py \
        work_dirs/ntu60_xsub/skeattnclr_stgcn_j_pretrain/epoch_300.pth

Runs the pretraining config's own validation (``KNNValLoop`` +
``KNNMetric``: the bank is the training split, the queries the test split,
both without augmentation) once on CHECKPOINT and prints ``knn/top1_k<k>``
for every k (default 10 20 40, temperature 0.1). The features are the
model's ``predict`` embeddings (SkeAttnCLR: the normalised 128-d
projector/predictor output). The checkpoint must hold every weight of the
config's model (a pretraining checkpoint of the same config); ``--out``
writes the numbers as JSON. ``--ann-file PATH`` points the bank and query
loaders at your own pickle, as in ``tools/train.py`` / ``tools/test.py``.
"""
import argparse
import json
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO not in sys.path:  # runnable from a checkout without installing
    sys.path.insert(0, REPO)

if __name__ == '__main__':  # tcmalloc before torch loads (MMSKELCL_ALLOCATOR)
    import _preload  # noqa: F401  (tools/_preload.py)
import mmskelcl  # noqa: E402,F401  (stack fixes + registration)
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.runner import Runner  # noqa: E402
from mmengine.runner.checkpoint import _load_checkpoint  # noqa: E402

from mmskelcl.utils.preflight import apply_data_overrides  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config', help='a pretraining config (val_cfg KNNValLoop)')
    p.add_argument('checkpoint', help='checkpoint of that config')
    p.add_argument('--ks', type=int, nargs='+', help='neighbour counts '
                   '(default: the config\'s, 10 20 40)')
    p.add_argument('--temperature', type=float,
                   help='vote temperature (default: the config\'s, 0.1)')
    p.add_argument('--work-dir', help='log folder (default work_dirs/knn/'
                   '<config folder>/<config name>)')
    p.add_argument('--out', help='write the metrics as JSON here')
    p.add_argument('--ann-file', metavar='PATH',
                   help='annotation file of every loader (bank and queries)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override config keys, key=value')
    return p.parse_args(argv)


def build_config(args: argparse.Namespace) -> Config:
    """The config with the kNN options applied; errors if it has no kNN."""
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    apply_data_overrides(cfg, args.ann_file)
    val_cfg = cfg.get('val_cfg') or {}
    evaluators = cfg.get('val_evaluator') or []
    evaluators = [evaluators] if isinstance(evaluators, dict) else evaluators
    knn = [e for e in evaluators if e.get('type') == 'KNNMetric']
    if val_cfg.get('type') != 'KNNValLoop' or not knn:
        raise ValueError(
            f'{args.config}: needs val_cfg=dict(type=\'KNNValLoop\', '
            "bank_dataloader=...) and val_evaluator=dict(type='KNNMetric'); "
            'give a pretraining config (configs/<dataset>/*_pretrain.py)')
    for e in knn:
        if args.ks:
            e['ks'] = tuple(args.ks)
        if args.temperature is not None:
            e['temperature'] = args.temperature
    cfg.val_evaluator = evaluators
    folder = osp.basename(osp.dirname(osp.abspath(args.config)))
    stem = osp.splitext(osp.basename(args.config))[0]
    cfg.work_dir = args.work_dir or osp.join('work_dirs', 'knn', folder, stem)
    cfg.load_from, cfg.resume = None, False
    cfg.train_dataloader = cfg.train_cfg = cfg.optim_wrapper = None
    cfg.param_scheduler = None
    cfg.test_dataloader = cfg.test_cfg = cfg.test_evaluator = None
    return cfg


def load_weights(runner: Runner, checkpoint: str) -> None:
    """Load every weight of the model, or say which are missing."""
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
    state = _load_checkpoint(checkpoint, map_location='cpu')
    state = state.get('state_dict', state)
    model = runner.model.module if hasattr(runner.model, 'module') \
        else runner.model
    missing = sorted(set(model.state_dict()) - set(state))
    if missing:
        raise KeyError(
            f'{checkpoint}: {len(missing)} weight(s) of the config\'s model '
            f'are missing, e.g. {missing[:3]}; give a checkpoint written by '
            'this pretraining config (not a linear/finetune one)')
    runner.load_checkpoint(checkpoint, map_location='cpu', strict=True)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        cfg = build_config(args)
        runner = Runner.from_cfg(cfg)
        load_weights(runner, args.checkpoint)
    except (ValueError, KeyError, FileNotFoundError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    metrics = runner.val()
    for key, value in metrics.items():
        print(f'{key}: {100 * value:.2f}')
    if args.out:
        with open(args.out, 'w', encoding='utf-8') as f:
            json.dump(dict(config=args.config, checkpoint=args.checkpoint,
                           metrics=metrics), f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
